// labs/06-volumes/starter/mount_target.cpp — your part of mount-target.
//
// Read mount_target.hpp first: it says what each function must achieve and
// gives you Fd, fail() and the Walk state.
// Try it by hand:   mount-target --create /tmp/root /data/x
// Build and grade:  make grade LAB=06 SRC=path/to/your/folder
#include "mount_target.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>

namespace lab {

std::deque<std::string> split_path(std::string_view path) {
  // TODO(part 1): cut PATH at each '/'; keep every part that is neither
  // empty nor "." (".." stays: only the walk knows where it leads).
  (void)path;
  return {};
}

void follow_symlink(Walk& walk, const std::string& target) {
  // TODO(part 2): count the link, and fail(ELOOP, …) past kMaxSymlinks; an
  // absolute TARGET restarts from the root (which of WALK.dirs is it?);
  // then TARGET's components go in front of WALK.todo, in their order.
  (void)walk, (void)target;
}

Fd resolve_in_root(int root_fd, const std::string& path, bool create_dirs) {
  // TODO(part 3): start a Walk at the root (an fd of your own: openat(ROOT_FD,
  // ".", O_PATH | …)) with PATH's components to do; then, one name at a time:
  //   ".."       go up one directory, but never above the root;
  //   otherwise  fstatat(here, name, …, AT_SYMLINK_NOFOLLOW) — look at the
  //              name itself, never at what it points to:
  //     missing    ENOENT, or with CREATE_DIRS mkdirat() it and look again;
  //     a symlink  readlinkat(), then follow_symlink();
  //     a dir      openat(here, name, O_PATH | O_NOFOLLOW | O_DIRECTORY | …)
  //                becomes "here";
  //     else       a file: only as the last name (ENOTDIR otherwise).
  // At the end, "here" is the answer.
  (void)root_fd, (void)path, (void)create_dirs;
  fail(ENOSYS, "resolve_in_root is not written yet");
}

}  // namespace lab
