// core/sys.cpp — see sys.hpp.
#include "core/sys.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <csignal>
#include <sys/sysmacros.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/trace.hpp"

namespace skiff::core::sys {
namespace {

struct FlagName {
  unsigned long bit;
  const char* name;
};

std::string join_flags(unsigned long flags, std::initializer_list<FlagName> table) {
  std::string out;
  for (const auto& [bit, name] : table) {
    if ((flags & bit) != bit || bit == 0) continue;
    if (!out.empty()) out += '|';
    out += name;
    flags &= ~bit;
  }
  if (flags != 0 || out.empty()) {
    if (!out.empty()) out += '|';
    out += "0x" + [](unsigned long v) {
      static const char* hex = "0123456789abcdef";
      std::string s;
      do { s.insert(s.begin(), hex[v & 15]); v >>= 4; } while (v);
      return s;
    }(flags);
  }
  return out;
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Narrates the call when --explain is on, then throws if it failed.
// `describe` is only called when its text is needed.
template <typename Describe>
long checked(long rc, Describe&& describe) {
  if (rc < 0) {
    int err = errno;
    throw SystemError(err, describe());
  }
  return rc;
}

template <typename Describe>
void narrate(Describe&& describe) {
  if (trace::enabled()) trace::call(describe());
}

}  // namespace

std::string mount_flags(unsigned long flags) {
  return join_flags(flags, {{MS_RDONLY, "MS_RDONLY"},   {MS_NOSUID, "MS_NOSUID"},
                            {MS_NODEV, "MS_NODEV"},     {MS_NOEXEC, "MS_NOEXEC"},
                            {MS_REMOUNT, "MS_REMOUNT"}, {MS_BIND, "MS_BIND"},
                            {MS_REC, "MS_REC"},         {MS_PRIVATE, "MS_PRIVATE"},
                            {MS_SLAVE, "MS_SLAVE"},     {MS_SHARED, "MS_SHARED"},
                            {MS_RELATIME, "MS_RELATIME"}, {MS_STRICTATIME, "MS_STRICTATIME"}});
}

std::string clone_flags(unsigned long flags) {
  return join_flags(flags, {{CLONE_NEWNS, "CLONE_NEWNS"},     {CLONE_NEWUTS, "CLONE_NEWUTS"},
                            {CLONE_NEWIPC, "CLONE_NEWIPC"},   {CLONE_NEWPID, "CLONE_NEWPID"},
                            {CLONE_NEWNET, "CLONE_NEWNET"},   {CLONE_NEWUSER, "CLONE_NEWUSER"},
                            {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {SIGCHLD, "SIGCHLD"}});
}

namespace {

void mount_as(const std::string& source, const std::string& target, const std::string& shown,
              const std::string& fstype, unsigned long flags, const std::string& data) {
  auto describe = [&] {
    std::string s = "mount(" + (source.empty() ? std::string("none") : source) + " → " + shown;
    if (!fstype.empty()) s += ", " + fstype;
    s += ", " + mount_flags(flags);
    if (!data.empty()) s += ", \"" + data + "\"";
    return s + ")";
  };
  narrate(describe);
  checked(::mount(source.empty() ? nullptr : source.c_str(), target.c_str(),
                  fstype.empty() ? nullptr : fstype.c_str(), flags,
                  data.empty() ? nullptr : data.c_str()),
          describe);
}

}  // namespace

void mount(const std::string& source, const std::string& target, const std::string& fstype,
           unsigned long flags, const std::string& data) {
  mount_as(source, target, target, fstype, flags, data);
}

void mount_on_fd(const std::string& source, int target_fd, const std::string& shown,
                 const std::string& fstype, unsigned long flags, const std::string& data) {
  std::string fd = std::to_string(target_fd);
  mount_as(source, "/proc/self/fd/" + fd, shown + " [fd " + fd + "]", fstype, flags, data);
}

int clone_mount(const std::string& path, int userns_fd, bool read_only, bool recursive) {
  unsigned recurse = recursive ? AT_RECURSIVE : 0;
  auto describe = [&] { return "open_tree(" + path + ", OPEN_TREE_CLONE" + (recursive ? "|AT_RECURSIVE)" : ")"); };
  narrate(describe);
  Fd mnt(static_cast<int>(checked(
      ::syscall(SYS_open_tree, AT_FDCWD, path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recurse), describe)));
  struct mount_attr attr {};
  if (read_only) attr.attr_set |= MOUNT_ATTR_RDONLY;
  if (userns_fd >= 0) {
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(userns_fd);
  }
  if (attr.attr_set == 0) return mnt.release();
  auto set = [&] {
    return "mount_setattr(" + path + ", " + (userns_fd >= 0 ? "MOUNT_ATTR_IDMAP" : "") +
           (userns_fd >= 0 && read_only ? "|" : "") + (read_only ? "MOUNT_ATTR_RDONLY" : "") + ")";
  };
  narrate(set);
  checked(::syscall(SYS_mount_setattr, mnt.get(), "", AT_EMPTY_PATH | recurse, &attr, sizeof attr), set);
  return mnt.release();
}

void move_mount_onto(int mnt, int target_fd, const std::string& shown) {
  auto describe = [&] { return "move_mount(detached → " + shown + ")"; };
  narrate(describe);
  checked(::syscall(SYS_move_mount, mnt, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH),
          describe);
}

void umount(const std::string& target, int flags) {
  auto describe = [&] {
    return "umount2(" + target + (flags & MNT_DETACH ? ", MNT_DETACH)" : ")");
  };
  narrate(describe);
  checked(::umount2(target.c_str(), flags), describe);
}

void mkdir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) < 0 && errno != EEXIST)
    throw SystemError(errno, "mkdir(" + path + ")");
}

void mknod(const std::string& path, mode_t mode, dev_t dev) {
  auto describe = [&] {
    return "mknod(" + path + ", " + std::to_string(major(dev)) + ":" + std::to_string(minor(dev)) + ")";
  };
  narrate(describe);
  checked(::mknod(path.c_str(), mode, dev), describe);
}

void symlink(const std::string& target, const std::string& link) {
  auto describe = [&] { return "symlink(" + link + " → " + target + ")"; };
  checked(::symlink(target.c_str(), link.c_str()), describe);
}

void chdir(const std::string& path) {
  auto describe = [&] { return "chdir(" + path + ")"; };
  checked(::chdir(path.c_str()), describe);
}

void chroot(const std::string& path) {
  auto describe = [&] { return "chroot(" + path + ")"; };
  narrate(describe);
  checked(::chroot(path.c_str()), describe);
}

void pivot_root(const std::string& new_root, const std::string& put_old) {
  auto describe = [&] { return "pivot_root(" + quote(new_root) + ", " + quote(put_old) + ")"; };
  narrate(describe);
  checked(::syscall(SYS_pivot_root, new_root.c_str(), put_old.c_str()), describe);
}

void sethostname(const std::string& name) {
  auto describe = [&] { return "sethostname(" + quote(name) + ")"; };
  narrate(describe);
  checked(::sethostname(name.data(), name.size()), describe);
}

void unshare(unsigned long flags) {
  auto describe = [&] { return "unshare(" + clone_flags(flags) + ")"; };
  narrate(describe);
  checked(::unshare(static_cast<int>(flags)), describe);
}

void setns(int fd, int nstype, const std::string& what) {
  auto describe = [&] { return "setns(" + what + ")"; };
  narrate(describe);
  checked(::setns(fd, nstype), describe);
}

void prctl(int option, unsigned long arg, std::string_view name) {
  auto describe = [&] { return "prctl(" + std::string(name) + ")"; };
  narrate(describe);
  checked(::prctl(option, arg, 0, 0, 0), describe);
}

int open(const std::string& path, int flags, mode_t mode) {
  auto describe = [&] { return "open(" + path + ")"; };
  return static_cast<int>(checked(::open(path.c_str(), flags | O_CLOEXEC, mode), describe));
}

void write_file(const std::string& path, std::string_view content) {
  auto describe = [&] { return "write " + path + " ← " + std::string(content); };
  narrate(describe);
  Fd fd(static_cast<int>(checked(::open(path.c_str(), O_WRONLY | O_CLOEXEC), describe)));
  checked(::write(fd.get(), content.data(), content.size()), describe);
}

}  // namespace skiff::core::sys
