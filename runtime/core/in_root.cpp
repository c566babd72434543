// core/in_root.cpp — see in_root.hpp.
#include "core/in_root.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <climits>
#include <deque>
#include <sstream>
#include <vector>

#include "core/error.hpp"

namespace skiff::core {
namespace {

constexpr int kMaxSymlinks = 40;  // the kernel's own limit (path_resolution(7))

std::deque<std::string> components(const std::string& path) {
  std::deque<std::string> out;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty() && part != ".") out.push_back(part);
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out = ".";
  for (const auto& p : parts) out += "/" + p;
  return out;
}

[[noreturn]] void fail(const std::string& path, int err) {
  throw Error("mount target " + path + " in the container: " + std::strerror(err));
}

// Opens PARTS under ROOT_FD. Every part is a real directory (or, last, the
// target) that the walk has checked: RESOLVE_NO_SYMLINKS makes a component
// swapped for a symlink since an error, never a detour; RESOLVE_IN_ROOT
// keeps even that error inside the root.
Fd open_checked(int root_fd, const std::vector<std::string>& parts, const std::string& path) {
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, join(parts).c_str(), &how, sizeof how));
  if (fd < 0) fail(path, errno);
  return Fd(fd);
}

// Makes the missing NAME in PARENT: a directory, or (last, for a file
// bind) an empty file. Someone else making it first is fine. Never in the
// container's /proc, which is the kernel's (whatever link led there).
void make_missing(int parent, const std::string& name, bool as_file, const std::string& path) {
  struct statfs fs {};
  if (::fstatfs(parent, &fs) == 0 && fs.f_type == PROC_SUPER_MAGIC)
    throw Error("invalid mount config: " + path + " cannot be mounted because it is located inside \"/proc\"");
  if (as_file) {
    int fd = ::openat(parent, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) fail(path, errno);
    if (fd >= 0) ::close(fd);
    return;
  }
  if (::mkdirat(parent, name.c_str(), 0755) < 0 && errno != EEXIST) fail(path, errno);
}

std::string read_link(int parent, const std::string& name, const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(parent, name.c_str(), buf, sizeof buf - 1);
  if (n < 0) fail(path, errno);
  return std::string(buf, static_cast<size_t>(n));
}

// The walk: DONE holds the components resolved so far (real directories,
// no symlink among them), TODO what is left. A symlink's target replaces
// it in TODO — from the root if it is absolute — exactly as the kernel
// would, except that "/" is the container's root.
// With MISSING, an absent component ends the walk quietly (*MISSING set)
// instead of failing.
std::vector<std::string> walk(int root_fd, const std::string& path, Create create,
                              Symlinks symlinks = Symlinks::follow, bool* missing = nullptr) {
  std::vector<std::string> done;
  std::deque<std::string> todo = components(path);
  int links = 0;
  while (!todo.empty()) {
    std::string name = todo.front();
    todo.pop_front();
    if (name == "..") {  // lexical: DONE holds no symlink, so this is its parent
      if (!done.empty()) done.pop_back();
      continue;
    }
    Fd parent = open_checked(root_fd, done, path);
    struct stat st {};
    if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT && missing && create == Create::nothing) {
        *missing = true;
        return {};
      }
      if (errno != ENOENT || create == Create::nothing) fail(path, errno);
      make_missing(parent.get(), name, todo.empty() && create == Create::file, path);
      todo.push_front(name);  // look again: what is there now is what counts
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      if (symlinks == Symlinks::refuse)
        throw Error(path + " in the container's root is a symlink (to " +
                    read_link(parent.get(), name, path) + "): refusing to mount over it");
      if (++links > kMaxSymlinks) fail(path, ELOOP);
      auto target = read_link(parent.get(), name, path);
      if (!target.empty() && target[0] == '/') done.clear();
      auto more = components(target);
      todo.insert(todo.begin(), more.begin(), more.end());
      continue;
    }
    if (!todo.empty() && !S_ISDIR(st.st_mode)) fail(path, ENOTDIR);
    done.push_back(name);
  }
  return done;
}

// The common case in one call: every component is there and none is a
// symlink. The kernel then does the whole walk under the same rules
// (RESOLVE_IN_ROOT, no symlink followed); anything else (a component
// missing, a symlink on the way or at the end) is left to walk(), which
// knows what to make and what to follow.
Fd open_directly(int root_fd, const std::string& path) {
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  std::string relative = "./" + path;
  Fd fd(static_cast<int>(::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how)));
  struct stat st {};
  // O_PATH|O_NOFOLLOW opens a trailing symlink itself: not an answer here.
  if (fd.valid() && (::fstat(fd.get(), &st) < 0 || S_ISLNK(st.st_mode))) return Fd();
  return fd;
}

}  // namespace

Fd resolve_in_root(int root_fd, const std::string& path, Create create, Symlinks symlinks) {
  if (Fd fd = open_directly(root_fd, path); fd.valid()) return fd;
  return open_checked(root_fd, walk(root_fd, path, create, symlinks), path);
}

Fd resolve_if_exists(int root_fd, const std::string& path, Symlinks symlinks) {
  if (Fd fd = open_directly(root_fd, path); fd.valid()) return fd;
  bool missing = false;
  auto parts = walk(root_fd, path, Create::nothing, symlinks, &missing);
  return missing ? Fd() : open_checked(root_fd, parts, path);
}

std::string resolved_path(int root_fd, const std::string& path) {
  auto parts = walk(root_fd, path, Create::nothing);
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string fd_path(const Fd& fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

Fd open_root(const std::string& root) {
  Fd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw SystemError(errno, "open(" + root + ")");
  return fd;
}

bool on_kernel_fs(const Fd& fd) {
  struct statfs fs {};
  if (::fstatfs(fd.get(), &fs) < 0) throw SystemError(errno, "fstatfs(" + fd_path(fd) + ")");
  return fs.f_type == PROC_SUPER_MAGIC || fs.f_type == SYSFS_MAGIC;
}

Fd create_new_file(int dir_fd, const std::string& name, mode_t mode) {
  Fd fd(::openat(dir_fd, name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd.valid()) throw SystemError(errno, "openat(" + name + ", O_CREAT|O_EXCL|O_NOFOLLOW)");
  return fd;
}

}  // namespace skiff::core
