// labs/06-volumes/solution/mount_target.cpp — the reference solution.
#include "mount_target.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>

namespace lab {

std::deque<std::string> split_path(std::string_view path) {
  std::deque<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  return parts;
}

void follow_symlink(Walk& walk, const std::string& target) {
  if (++walk.links > kMaxSymlinks) fail(ELOOP, "more than 40 symlinks");
  // An absolute target starts again from the container's "/", not the host's.
  if (!target.empty() && target[0] == '/') walk.dirs.resize(1);
  auto parts = split_path(target);
  walk.todo.insert(walk.todo.begin(), parts.begin(), parts.end());
}

namespace {

std::string read_link(int dir, const std::string& name) {
  char buf[PATH_MAX];
  ssize_t n = ::readlinkat(dir, name.c_str(), buf, sizeof buf);
  if (n < 0) fail(errno, "readlinkat " + name);
  return std::string(buf, static_cast<std::size_t>(n));
}

// NAME in DIR, never followed: O_NOFOLLOW opens a symlink itself (we checked
// it was none; if it has been swapped for one since, O_DIRECTORY then fails).
Fd open_here(int dir, const std::string& name, int more_flags) {
  int fd = ::openat(dir, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC | more_flags);
  if (fd < 0) fail(errno, "openat " + name);
  return Fd(fd);
}

}  // namespace

Fd resolve_in_root(int root_fd, const std::string& path, bool create_dirs) {
  Walk walk;
  walk.dirs.push_back(open_here(root_fd, ".", O_DIRECTORY));
  walk.todo = split_path(path);
  while (!walk.todo.empty()) {
    const std::string name = walk.todo.front();
    walk.todo.pop_front();
    // DIRS holds real directories only, so the parent is the one before;
    // at the root, ".." is the root (the kernel does the same at "/").
    if (name == "..") {
      if (walk.dirs.size() > 1) walk.dirs.pop_back();
      continue;
    }
    const int here = walk.dirs.back().get();
    struct stat st {};
    if (::fstatat(here, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno != ENOENT || !create_dirs) fail(errno, "fstatat " + name);
      if (::mkdirat(here, name.c_str(), 0755) < 0 && errno != EEXIST) fail(errno, "mkdirat " + name);
      walk.todo.push_front(name);  // look again: what is there now is what counts
      continue;
    }
    if (S_ISLNK(st.st_mode)) {
      follow_symlink(walk, read_link(here, name));
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      walk.dirs.push_back(open_here(here, name, O_DIRECTORY));
      continue;
    }
    if (!walk.todo.empty()) fail(ENOTDIR, name);
    return open_here(here, name, 0);  // a file, as the last component
  }
  return std::move(walk.dirs.back());
}

}  // namespace lab
