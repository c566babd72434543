// 02-chroot/rootfs.cpp — see rootfs.hpp.
#include "02-chroot/rootfs.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/sys.hpp"

namespace skiff::chroot {

std::vector<Mount> plan_system_mounts() {
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
      // change them.
      {"sysfs", "sys", "sysfs", kSafe | MS_RDONLY, ""},
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

void make_devices(const stdfs::path& dev) {
  // mknod needs CAP_MKNOD, which we still hold; the devices cgroup (lesson
  // 04) is what stops the container from using nodes it makes later.
  ::umask(0);
  for (const auto& d : default_devices())
    core::sys::mknod(dev / d.name, S_IFCHR | 0666, makedev(d.major, d.minor));
  ::umask(022);
  struct Link {
    const char* name;
    const char* target;
  };
  for (const auto& [name, target] :
       {Link{"fd", "/proc/self/fd"}, Link{"stdin", "/proc/self/fd/0"},
        Link{"stdout", "/proc/self/fd/1"}, Link{"stderr", "/proc/self/fd/2"},
        Link{"ptmx", "pts/ptmx"}})
    core::sys::symlink(target, dev / name);
}

}  // namespace

void mount_system(const stdfs::path& root) {
  for (const auto& m : plan_system_mounts()) {
    core::sys::mkdir(root / m.target, 0755);
    core::sys::mount(m.source, root / m.target, m.fstype, m.flags, m.data);
  }
  make_devices(root / "dev");
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
