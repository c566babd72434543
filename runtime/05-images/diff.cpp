// 05-images/diff.cpp — an upper directory written as an OCI layer (see diff.hpp).
//
// Lesson: lessons/05-images. The walk visits the upper directory in name
// order (the same files always give the same tar, hence the same diff_id)
// and turns overlayfs' two ways of recording a deletion into OCI's:
//
//   upper/etc/motd        char 0/0          →  etc/.wh.motd
//   upper/usr/share/doc/  opaque=y xattr    →  usr/share/doc/ + usr/share/doc/.wh..wh..opq
//
// The tar is hashed as it is written, so its digest costs no second read.
#include "05-images/diff.hpp"

#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "05-images/archive_owner.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::images {

namespace stdfs = std::filesystem;

namespace {

struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};
using Entry = std::unique_ptr<archive_entry, EntryFree>;

// Where the tar goes: a file, hashed on the way.
struct Sink {
  int fd = -1;
  std::string path;
  oci::Sha256 hash;
  int64_t size = 0;
};

la_ssize_t write_to_sink(archive*, void* data, const void* buf, size_t n) {
  auto* sink = static_cast<Sink*>(data);
  const char* p = static_cast<const char*>(buf);
  for (size_t done = 0; done < n;) {
    ssize_t w = ::write(sink->fd, p + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw core::SystemError(errno, "write(" + sink->path + ")");
    done += static_cast<size_t>(w);
  }
  sink->hash.update(std::string_view(p, n));
  sink->size += static_cast<int64_t>(n);
  return static_cast<la_ssize_t>(n);
}

std::vector<std::string> sorted_names(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) throw core::SystemError(errno, "opendir(" + dir + ")");
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool has_xattr(const std::string& path, const char* name, std::string_view value) {
  char buf[16];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n >= 0 && std::string_view(buf, static_cast<size_t>(n)) == value;
}

// Everything overlayfs keeps for itself goes; the files' own xattrs stay.
void drop_overlay_xattrs(archive_entry* e) {
  std::vector<std::pair<std::string, std::string>> kept;
  archive_entry_xattr_reset(e);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK)
    if (!std::string_view(name).starts_with(kOverlayXattrPrefix))
      kept.emplace_back(name, std::string(static_cast<const char*>(value), size));
  archive_entry_xattr_clear(e);
  for (const auto& [n, v] : kept) archive_entry_xattr_add_entry(e, n.c_str(), v.data(), v.size());
}

class UpperWriter {
 public:
  UpperWriter(std::string upper, archive* out, archive* disk, std::vector<std::string> placeholders)
      : upper_(std::move(upper)), out_(out), disk_(disk), placeholders_(std::move(placeholders)) {}

  // Writes the entries under REL ("" for the upper dir itself), recursively.
  void walk(const std::string& rel) {
    std::string dir = rel.empty() ? upper_ : upper_ + "/" + rel;
    for (const auto& name : sorted_names(dir)) {
      std::string child = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::lstat((upper_ + "/" + child).c_str(), &st) < 0)
        throw core::SystemError(errno, "lstat(" + upper_ + "/" + child + ")");
      add(rel, name, child, st);
    }
  }

 private:
  void add(const std::string& rel, const std::string& name, const std::string& child,
           const struct stat& st) {
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) {  // overlayfs' whiteout
      write_marker((rel.empty() ? "" : rel + "/") + std::string(kWhiteoutPrefix) + name, st);
      return;
    }
    if (S_ISSOCK(st.st_mode)) return;  // a socket cannot be archived
    if (is_placeholder(child, st)) return;
    write_file_entry(child, st);
    if (!S_ISDIR(st.st_mode)) return;
    std::string path = upper_ + "/" + child;
    if (::lgetxattr(path.c_str(), "trusted.overlay.redirect", nullptr, 0) >= 0)
      throw core::Error("the directory /" + child + " was renamed with overlayfs' redirect_dir "
                        "feature, which commit cannot follow yet");
    if (has_xattr(path, kOverlayOpaqueXattr, "y"))
      write_marker(child + "/" + std::string(kOpaqueMarker), st);
    walk(child);
  }

  bool is_placeholder(const std::string& child, const struct stat& st) const {
    if (std::find(placeholders_.begin(), placeholders_.end(), child) == placeholders_.end())
      return false;
    if (S_ISREG(st.st_mode)) return st.st_size == 0;
    return S_ISDIR(st.st_mode) && sorted_names(upper_ + "/" + child).empty();
  }

  // An empty regular file standing for a deletion, owned like what it hides.
  void write_marker(const std::string& name, const struct stat& st) {
    Entry e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_size(e.get(), 0);
    check_archive(out_, archive_write_header(out_, e.get()), "write " + name);
  }

  void write_file_entry(const std::string& child, const struct stat& st) {
    std::string path = upper_ + "/" + child;
    Entry e(archive_entry_new());
    archive_entry_copy_sourcepath(e.get(), path.c_str());
    archive_entry_copy_pathname(e.get(), path.c_str());
    check_archive(disk_, archive_read_disk_entry_from_file(disk_, e.get(), -1, &st), "read " + path);
    archive_entry_copy_pathname(e.get(), child.c_str());
    // Only the modification time is part of a layer: atime and ctime change
    // by merely reading, and would make every commit's digest different.
    archive_entry_unset_atime(e.get());
    archive_entry_unset_ctime(e.get());
    archive_entry_unset_birthtime(e.get());
    archive_entry_sparse_clear(e.get());
    drop_overlay_xattrs(e.get());
    bool data = S_ISREG(st.st_mode) && st.st_size > 0 && !link_to_earlier(e.get(), child, st);
    check_archive(out_, archive_write_header(out_, e.get()), "write " + child);
    if (data) copy_data(path);
  }

  // A second name of an inode already written becomes a hard link to it.
  bool link_to_earlier(archive_entry* e, const std::string& child, const struct stat& st) {
    if (S_ISDIR(st.st_mode) || st.st_nlink < 2) return false;
    auto [it, first] = seen_.try_emplace({st.st_dev, st.st_ino}, child);
    if (first) return false;
    archive_entry_copy_hardlink(e, it->second.c_str());
    archive_entry_set_size(e, 0);
    return true;
  }

  void copy_data(const std::string& path) {
    core::Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw core::SystemError(errno, "open(" + path + ")");
    std::vector<char> buffer(1 << 20);  // on the heap: see digest.cpp
    char* buf = buffer.data();
    for (;;) {
      ssize_t n = ::read(fd.get(), buf, buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw core::SystemError(errno, "read(" + path + ")");
      if (n == 0) return;
      // A file that grew since its header was written (commit -p=false) is
      // cut at the recorded size; one that shrank is padded with zeros.
      if (archive_write_data(out_, buf, static_cast<size_t>(n)) < 0)
        throw core::Error("write " + path + ": " + archive_message(out_));
    }
  }

  std::string upper_;
  archive* out_;
  archive* disk_;
  std::vector<std::string> placeholders_;
  std::map<std::pair<dev_t, ino_t>, std::string> seen_;
};

void write_tar(const stdfs::path& upper, Sink& sink, const std::vector<std::string>& placeholders) {
  ArchiveWriter out(archive_write_new());
  ArchiveReader disk(archive_read_disk_new());
  if (!out || !disk) throw core::Error("libarchive: out of memory");
  // No archive_read_disk_set_standard_lookup: owners stay numbers.
  archive_read_disk_set_symlink_physical(disk.get());
  archive_read_disk_set_behavior(disk.get(), ARCHIVE_READDISK_NO_SPARSE);
  archive_write_set_format_pax_restricted(out.get());
  archive_write_set_bytes_per_block(out.get(), 1 << 16);
  archive_write_set_bytes_in_last_block(out.get(), 1);
  check_archive(out.get(), archive_write_open(out.get(), &sink, nullptr, write_to_sink, nullptr),
                "write " + sink.path);
  if (stdfs::exists(upper)) UpperWriter(upper.string(), out.get(), disk.get(), placeholders).walk("");
  check_archive(out.get(), archive_write_close(out.get()), "write " + sink.path);
}

}  // namespace

DiffId write_layer_from_upper(const stdfs::path& upper, const stdfs::path& out,
                              const std::vector<std::string>& placeholders) {
  Sink sink;
  sink.path = out.string();
  core::Fd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) throw core::SystemError(errno, "open(" + out.string() + ")");
  sink.fd = fd.get();
  try {
    write_tar(upper, sink, placeholders);
    if (::fsync(fd.get()) < 0) throw core::SystemError(errno, "fsync(" + out.string() + ")");
  } catch (...) {
    std::error_code ec;
    stdfs::remove(out, ec);
    core::rethrow_with_context("commit the changes in " + upper.string());
  }
  return {"sha256:" + sink.hash.hex(), sink.size};
}

}  // namespace skiff::images
