// 05-images/export.cpp — `skiff export` (see export.hpp).
//
// Lesson: lessons/05-images ("what a container sees is a mount"). The steps:
//
//   fork → child: unshare(CLONE_NEWNS) → make every mount private → mount
//   the read-only overlay on merged/ → walk it with archive_read_disk,
//   writing the tar → exit (the namespace and its mount vanish)
//   parent: wait; the child's error, if any, comes back over a pipe
//
// The child never lets an exception out (STYLE.md): it sends the message to
// the parent and _exits.
#include "05-images/export.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "03-namespaces/namespaces.hpp"
#include "05-images/archive_internal.hpp"
#include "05-images/archive_owner.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/sys.hpp"

namespace skiff::images {

namespace stdfs = std::filesystem;

namespace {

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
struct ResolverFree {
  void operator()(archive_entry_linkresolver* r) const { archive_entry_linkresolver_free(r); }
};

// archive_read_disk, never looking up user or group names (the numbers
// belong to the container's /etc/passwd, not the host's), never sparse.
ArchiveReader open_disk_reader() {
  ArchiveReader disk(archive_read_disk_new());
  if (!disk) throw core::Error("libarchive: out of memory");
  archive_read_disk_set_symlink_physical(disk.get());
  check_archive(disk.get(), archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_SPARSE),
                "read the container's files");
  check_archive(disk.get(), archive_read_disk_open(disk.get(), "."), "read the container's files");
  return disk;
}

void copy_entry_data(archive* disk, archive* out, const std::string& path) {
  std::vector<char> buffer(1 << 16);  // on the heap: see digest.cpp
  char* buf = buffer.data();
  for (;;) {
    la_ssize_t n = archive_read_data(disk, buf, buffer.size());
    if (n < 0) throw core::Error("read " + path + ": " + archive_message(disk));
    if (n == 0) return;
    detail::write_bytes(out, std::string_view(buf, static_cast<size_t>(n)), path);
  }
}

// "./etc/passwd" → "etc/passwd", as `docker export` names entries.
std::string tar_name(const char* disk_path) {
  std::string p = disk_path;
  return p.starts_with("./") ? p.substr(2) : p;
}

// Walks the current directory and writes every entry below it to OUT_FD.
void write_tree(int out_fd) {
  ArchiveReader disk = open_disk_reader();
  ArchiveWriter out = detail::open_tar_writer(out_fd);
  std::unique_ptr<archive_entry_linkresolver, ResolverFree> links(archive_entry_linkresolver_new());
  archive_entry_linkresolver_set_strategy(links.get(), archive_format(out.get()));
  for (;;) {
    std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
    int r = archive_read_next_header2(disk.get(), entry.get());
    if (r == ARCHIVE_EOF) break;
    check_archive(disk.get(), r, "read the container's files");
    archive_read_disk_descend(disk.get());
    std::string name = tar_name(archive_entry_pathname(entry.get()));
    if (name == ".") continue;
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry* e = entry.get();
    archive_entry* spare = nullptr;
    archive_entry_linkify(links.get(), &e, &spare);  // a second name of an inode: a hard link
    check_archive(out.get(), archive_write_header(out.get(), e), "write " + name);
    if (archive_entry_size(e) > 0) copy_entry_data(disk.get(), out.get(), name);
  }
  check_archive(out.get(), archive_write_close(out.get()), "write the archive");
}

// The child's side: never returns.
[[noreturn]] void child_side(const std::string& options, const stdfs::path& layers_dir,
                             const stdfs::path& mountpoint, int out_fd, int report_fd) {
  try {
    core::sys::unshare(CLONE_NEWNS);
    ns::make_mounts_private();  // our mount must not travel back to the host
    core::sys::chdir(layers_dir);  // where the relative lowerdirs are
    core::sys::mount("overlay", mountpoint, "overlay", MS_RDONLY, options);
    core::sys::chdir(mountpoint);
    write_tree(out_fd);
    ::_exit(0);
  } catch (const std::exception& e) {
    std::string message = e.what();
    [[maybe_unused]] auto n = ::write(report_fd, message.data(), message.size());
  } catch (...) {
  }
  ::_exit(1);
}

std::string read_all(int fd) {
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw core::SystemError(errno, "waitpid(" + std::to_string(pid) + ")");
  return status;
}

}  // namespace

std::string readonly_overlay_options(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                                     const stdfs::path& relative_to) {
  std::string lower = upper.string();
  for (auto it = layers.rbegin(); it != layers.rend(); ++it)
    lower += ":" + (!relative_to.empty() && it->parent_path() == relative_to ? it->filename() : *it).string();
  return "lowerdir=" + lower;
}

void export_rootfs(const std::vector<stdfs::path>& layers, const stdfs::path& upper,
                   const stdfs::path& mountpoint, int out_fd) {
  if (layers.empty()) throw core::Error("export: the container's image has no layers");
  // mount(2) takes one page of options: layer paths relative to the store's
  // layers/ (the child mounts from there) let about 60 layers fit, not 40.
  stdfs::path layers_dir = layers.front().parent_path();
  std::string options = readonly_overlay_options(layers, upper, layers_dir);
  int report[2];
  if (::pipe2(report, O_CLOEXEC) < 0) throw core::SystemError(errno, "pipe2");
  core::Fd read_end(report[0]), write_end(report[1]);
  pid_t pid = ::fork();
  if (pid < 0) throw core::SystemError(errno, "fork");
  if (pid == 0) child_side(options, layers_dir, mountpoint, out_fd, write_end.get());
  write_end = core::Fd();
  std::string message = read_all(read_end.get());
  int status = wait_for(pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  if (message.empty() && WIFSIGNALED(status))
    message = std::string("killed by ") + ::strsignal(WTERMSIG(status));
  throw core::Error("export: " + (message.empty() ? "failed" : message));
}

}  // namespace skiff::images
