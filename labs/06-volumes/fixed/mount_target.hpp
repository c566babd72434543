// labs/06-volumes/fixed/mount_target.hpp — the three functions you write in
// mount_target.cpp, and what is given to you. Do not change this file: the
// grader compiles its own copy.
//
// A container runtime mounts a volume at a path the user chose (-v
// data:/var/lib/app), inside a root directory that someone else built: the
// image. Any component of that path may be a symlink in the image, and a
// symlink means what it means *inside the container*: "/data -> /etc" is the
// container's /etc, "up -> ../../.." stops at the container's "/". Asking the
// host's kernel for ROOT + "/data" follows the link on the host instead, to
// the host's /etc. So the target is found by walking the path ourselves, one
// component at a time, each one opened relative to the directory before it,
// with the container's root as "/":
//
//   "name"   lstat it (never follow): a directory → step into it;
//            a symlink → put its target's components in front of what is left
//            (from the root if the target is absolute); missing → make it
//            (when asked) and look again; a file → only as the last component
//   ".."     the parent of where we are — but never above the root
//
// The result is an O_PATH file descriptor of the target: main() mounts on
// "/proc/self/fd/N", so the kernel mounts on exactly what was checked, even
// if someone renames a directory in between.
//
// openat2(2)'s RESOLVE_IN_ROOT does this walk in the kernel (Linux 5.6).
// You may not use it here: main() blocks openat2 with a seccomp filter, as on
// an older kernel. The point is to know what it does; the grader compares
// your answers with its own.
//
// Man pages: path_resolution(7), openat(2) (O_PATH, O_NOFOLLOW, O_DIRECTORY),
// fstatat(2) (AT_SYMLINK_NOFOLLOW), readlinkat(2), mkdirat(2), openat2(2),
// symlink(7). Lesson: lessons/06-volumes. skiff's own version:
// runtime/06-volumes/safe_path.cpp — read it *after* the lab.
#pragma once

#include <unistd.h>

#include <deque>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace lab {

// The kernel's limit on symlinks followed in one path lookup
// (path_resolution(7)): one more is ELOOP, "Too many levels of symbolic links".
inline constexpr int kMaxSymlinks = 40;

// An owned file descriptor, closed when it goes (move-only).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Throws std::system_error(ERR, WHAT): main() prints
// "mount-target: PATH: WHAT: <strerror(ERR)>" and exits with 125.
[[noreturn]] inline void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// Part 1 (pure: touches no file). PATH split at "/", the empty and "."
// components dropped, ".." kept: "//data/./x/../y/" → {"data", "x", "..", "y"}.
// A relative path gives the same as an absolute one: "a/b" → {"a", "b"}.
std::deque<std::string> split_path(std::string_view path);

// Where a walk is. DIRS[0] is the root; each next one an O_PATH fd of a real
// directory (never a symlink) inside the one before it, so that DIRS.back()
// is "where we are" and popping it is going to the parent. TODO holds the
// components still to resolve, LINKS the symlinks followed so far.
struct Walk {
  std::vector<Fd> dirs;
  std::deque<std::string> todo;
  int links = 0;
};

// Part 2. The walk met a symlink whose content is TARGET: count it (more than
// kMaxSymlinks in one walk: fail with ELOOP); put TARGET's components in front
// of WALK.todo; when TARGET is absolute, go back to the root first (keep only
// WALK.dirs[0]). Touches no file.
void follow_symlink(Walk& walk, const std::string& target);

// Part 3. Resolves PATH (as seen inside the container) under the directory
// ROOT_FD as if ROOT_FD were "/", and returns an O_PATH fd of what it names:
//   - symlinks are followed (the last component's too), with follow_symlink();
//   - ".." goes up one directory, and at the root stays there;
//   - a missing component fails with ENOENT, or, when CREATE_DIRS, is made as
//     a directory (mode 0755) inside the directory reached so far — which may
//     be where a dangling symlink pointed — and the walk goes on through it;
//   - a component that is not a directory, with more components after it,
//     fails with ENOTDIR (a file may only be the last component);
//   - nothing outside ROOT_FD is opened, made or changed, whatever the links.
// ROOT_FD is the caller's: leave it open.
Fd resolve_in_root(int root_fd, const std::string& path, bool create_dirs);

}  // namespace lab
