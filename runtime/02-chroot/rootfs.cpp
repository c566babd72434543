// 02-chroot/rootfs.cpp — see rootfs.hpp.
#include "02-chroot/rootfs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/in_root.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::chroot {

std::vector<Mount> plan_system_mounts(bool writable_sys) {
  constexpr unsigned long kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  return {
      // A fresh proc shows the processes of the container's pid namespace.
      {"proc", "proc", "proc", kSafe, ""},
      // /dev is a small tmpfs of our own, not the host's devtmpfs, so the
      // container sees only the devices we create in it.
      {"tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"},
      // newinstance: the container's terminals are numbered apart from the
      // host's, and it cannot open the host's /dev/pts/N.
      {"devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
       "newinstance,ptmxmode=0666,mode=0620,gid=5"},
      {"shm", "dev/shm", "tmpfs", kSafe, "mode=1777,size=65536k"},
      // POSIX message queues belong to the ipc namespace.
      {"mqueue", "dev/mqueue", "mqueue", kSafe, ""},
      // Read-only: the container may look at devices and kernel settings, not
      // change them (--privileged lifts it: lesson 11).
      {"sysfs", "sys", "sysfs", kSafe | (writable_sys ? 0 : MS_RDONLY), ""},
  };
}

const std::vector<Device>& default_devices() {
  static const std::vector<Device> devices = {
      {"null", 1, 3}, {"zero", 1, 5},    {"full", 1, 7},
      {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  return devices;
}

namespace {

using core::Create;
using core::Symlinks;

// DEV is an fd of our own tmpfs at /dev: the image cannot have put
// anything in it, and every name is made relative to the fd.
void make_devices(const core::Fd& dev) {
  // mknod needs CAP_MKNOD, which we still hold; the device policy of the
  // cgroup (lesson 04; on v2 a BPF program, lesson 11) is what stops the
  // container from using nodes it makes later.
  ::umask(0);
  for (const auto& d : default_devices()) {
    core::trace::call("mknod({root}/dev/" + d.name + ", " + std::to_string(d.major) + ":" +
                      std::to_string(d.minor) + ")");
    if (::mknodat(dev.get(), d.name.c_str(), S_IFCHR | 0666, makedev(d.major, d.minor)) < 0)
      throw core::SystemError(errno, "mknod(/dev/" + d.name + ")");
  }
  ::umask(022);
  struct Link {
    const char* name;
    const char* target;
  };
  for (const auto& [name, target] :
       {Link{"fd", "/proc/self/fd"}, Link{"stdin", "/proc/self/fd/0"},
        Link{"stdout", "/proc/self/fd/1"}, Link{"stderr", "/proc/self/fd/2"},
        Link{"ptmx", "pts/ptmx"}})
    if (::symlinkat(target, dev.get(), name) < 0)
      throw core::SystemError(errno, std::string("symlink(/dev/") + name + " → " + target + ")");
}

}  // namespace

void mount_system(const stdfs::path& root, bool writable_sys) {
  core::Fd root_fd = core::open_root(root);
  for (const auto& m : plan_system_mounts(writable_sys)) {
    // The image decides what ROOT/proc is. A symlink there would send the
    // kernel's proc (or sysfs, or our /dev) over a directory of the image's
    // choosing — runc's CVE-2019-19921: refused, as runc does.
    std::string where = "/" + m.target;
    core::Fd target = core::resolve_in_root(root_fd.get(), where, Create::directory, Symlinks::refuse);
    core::sys::mount_on_fd(m.source, target.get(), "{root}" + where, m.fstype, m.flags, m.data);
  }
  // Looked up again: the fd taken before the mount holds the directory
  // under it, not our new tmpfs.
  make_devices(core::resolve_in_root(root_fd.get(), "/dev", Create::nothing, Symlinks::refuse));
}

void make_device_nodes(const stdfs::path& root, const std::vector<DeviceNode>& nodes) {
  core::Fd root_fd = core::open_root(root);
  for (const auto& n : nodes) {
    stdfs::path where(n.path);
    core::Fd dir = core::resolve_in_root(root_fd.get(), where.parent_path().string(), Create::directory);
    std::string name = where.filename().string();
    dev_t dev = makedev(n.major, n.minor);
    core::trace::call("mknod(" + n.path + ", " + n.type + " " + std::to_string(n.major) + ":" +
                      std::to_string(n.minor) + ")");
    // Replaces what the image or our /dev had under that name, as Docker does.
    ::unlinkat(dir.get(), name.c_str(), 0);
    mode_t old = ::umask(0);
    int rc = ::mknodat(dir.get(), name.c_str(), (n.type == 'b' ? S_IFBLK : S_IFCHR) | (n.mode & 07777), dev);
    ::umask(old);
    if (rc < 0) throw core::SystemError(errno, "mknod(" + n.path + ")");
    if (::fchownat(dir.get(), name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) < 0)
      throw core::SystemError(errno, "chown(" + n.path + ")");
  }
}

void pivot_into(const stdfs::path& root) {
  // pivot_root(".", ".") stacks the old root on top of the new one at "/";
  // unmounting "." then removes the old root from this namespace. No
  // temporary put_old directory is needed, so none is left in the image.
  core::sys::chdir(root);
  core::sys::pivot_root(".", ".");
  // MNT_DETACH: the old root is busy (our own cwd was in it until now).
  core::sys::umount(".", MNT_DETACH);
  core::sys::chdir("/");
}

void chroot_into(const stdfs::path& root) {
  core::sys::chdir(root);
  core::sys::chroot(".");
  core::sys::chdir("/");
}

}  // namespace skiff::chroot
