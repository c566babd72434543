// 06-volumes/copy_up.cpp — see copy_up.hpp.
#include "06-volumes/copy_up.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::volumes {
namespace {

using core::Fd;

[[noreturn]] void fail(const std::string& what, const std::string& name) {
  throw core::SystemError(errno, "copy-up: " + what + "(" + name + ")");
}

// The names in DIR_FD, read through a duplicate (closedir closes its fd).
std::vector<std::string> names_in(int dir_fd) {
  int dup = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) fail("openat", ".");
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(dup), ::closedir);
  if (!dir) {
    ::close(dup);
    fail("fdopendir", ".");
  }
  std::vector<std::string> out;
  while (auto* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (name != "." && name != "..") out.push_back(name);
  }
  return out;
}

Fd open_at(int dir, const std::string& name, int flags, mode_t mode = 0) {
  Fd fd(::openat(dir, name.c_str(), flags | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) fail("openat", name);
  return fd;
}

// Owner, mode and times of FROM given to the entry FD holds (a directory
// or a file we made and opened; never reached by name again).
void copy_attributes(const struct stat& from, int fd, const std::string& name) {
  if (::fchown(fd, from.st_uid, from.st_gid) < 0) fail("fchown", name);
  if (::fchmod(fd, from.st_mode & 07777) < 0) fail("fchmod", name);
  struct timespec times[2] = {from.st_atim, from.st_mtim};
  ::futimens(fd, times);
}

// A symlink or a device node has no fd to set things through: its owner
// and times are set by name with AT_SYMLINK_NOFOLLOW, which acts on the
// entry itself whatever it is by now (a symlink raced in gets chowned, not
// what it points to). Its mode came with mknodat.
void copy_attributes_of_entry(const struct stat& from, int dir, const std::string& name) {
  if (::fchownat(dir, name.c_str(), from.st_uid, from.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
    fail("fchownat", name);
  struct timespec times[2] = {from.st_atim, from.st_mtim};
  ::utimensat(dir, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
}

void copy_file(int from_dir, int to_dir, const std::string& name, const struct stat& st) {
  Fd in = open_at(from_dir, name, O_RDONLY);
  Fd out = open_at(to_dir, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
  for (off_t left = st.st_size; left > 0;) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, static_cast<size_t>(left), 0);
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
      char buf[65536];  // across filesystems on older kernels: read and write
      n = ::read(in.get(), buf, sizeof buf);
      if (n > 0 && ::write(out.get(), buf, static_cast<size_t>(n)) != n) fail("write", name);
    }
    if (n < 0) fail("copy_file_range", name);
    if (n == 0) break;  // the image's file is shorter than it said: done
    left -= n;
  }
  copy_attributes(st, out.get(), name);
}

void copy_link(int from_dir, int to_dir, const std::string& name, const struct stat& st) {
  char target[PATH_MAX];
  ssize_t n = ::readlinkat(from_dir, name.c_str(), target, sizeof target - 1);
  if (n < 0) fail("readlinkat", name);
  target[n] = '\0';
  // Copied as a link: its target is read inside the container, later.
  if (::symlinkat(target, to_dir, name.c_str()) < 0) fail("symlinkat", name);
  copy_attributes_of_entry(st, to_dir, name);
}

void copy_node(int to_dir, const std::string& name, const struct stat& st) {
  mode_t old = ::umask(0);
  int rc = ::mknodat(to_dir, name.c_str(), st.st_mode, st.st_rdev);
  ::umask(old);
  if (rc < 0) fail("mknodat", name);
  copy_attributes_of_entry(st, to_dir, name);
}

void copy_entry(int from_dir, int to_dir, const std::string& name) {
  struct stat st {};
  if (::fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) fail("fstatat", name);
  if (S_ISDIR(st.st_mode)) {
    if (::mkdirat(to_dir, name.c_str(), 0700) < 0) fail("mkdirat", name);
    // O_NOFOLLOW|O_DIRECTORY: what we enter is the directory we just made,
    // or nothing — a symlink swapped in meanwhile is refused (ELOOP/ENOTDIR).
    Fd from = open_at(from_dir, name, O_RDONLY | O_DIRECTORY);
    Fd to = open_at(to_dir, name, O_RDONLY | O_DIRECTORY);
    copy_tree(from.get(), to.get());
  } else if (S_ISREG(st.st_mode)) {
    copy_file(from_dir, to_dir, name, st);
  } else if (S_ISLNK(st.st_mode)) {
    copy_link(from_dir, to_dir, name, st);
  } else {
    copy_node(to_dir, name, st);
  }
}

}  // namespace

bool empty_directory(int dir_fd) { return names_in(dir_fd).empty(); }

void copy_tree(int from_dir, int to_dir) {
  for (const auto& name : names_in(from_dir)) copy_entry(from_dir, to_dir, name);
  struct stat st {};
  if (::fstat(from_dir, &st) < 0) fail("fstat", ".");
  copy_attributes(st, to_dir, ".");
}

}  // namespace skiff::volumes
