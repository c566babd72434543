// 02-chroot/rootfs.hpp — a new root, and the few filesystems a root needs.
//
// Kernel concept: every process has a root directory, where path lookups of
//   "/…" start. chroot(2) moves it, but the old root stays reachable (the
//   classic escape, shown in the lesson). pivot_root(2) instead swaps the
//   root *mount* of the mount namespace, and the old root can then be
//   detached entirely: nothing of the host's tree is left to escape to.
// Man pages: chroot(2), pivot_root(2), mount(2), umount(2), proc(5),
//   sysfs(5), pts(4), tmpfs(5).
// Runs in: the child, inside its own mount namespace (chroot mode has none).
// Privilege: CAP_SYS_CHROOT for chroot; CAP_SYS_ADMIN for mount, pivot_root.
// Lesson: lessons/02-chroot.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::chroot {

namespace stdfs = std::filesystem;

// One mount, with its target relative to the new root.
struct Mount {
  std::string source;
  std::string target;   // "proc", "dev/pts", …
  std::string fstype;
  unsigned long flags = 0;
  std::string data;
};

// One device node to create under /dev.
struct Device {
  std::string name;
  unsigned major;
  unsigned minor;
};

// The filesystems every container gets, in mount order (a mount point must
// exist before something is mounted on it: /dev before /dev/pts). /sys is
// read-only unless WRITABLE_SYS. Pure.
std::vector<Mount> plan_system_mounts(bool writable_sys = false);
// The device nodes of Docker's default /dev. Pure.
const std::vector<Device>& default_devices();

// Mounts the plan under ROOT, creates the device nodes and the usual /dev
// symlinks (fd, stdin, stdout, stderr, ptmx). Needs a mount namespace.
// Every mount point is looked up inside ROOT (core/in_root.hpp), and one
// that the image made a symlink is refused.
void mount_system(const stdfs::path& root, bool writable_sys = false);

// Makes ROOT the root of the mount namespace with pivot_root(2), then
// detaches the old root so it cannot be reached again. ROOT must be a mount.
void pivot_into(const stdfs::path& root);

// Changes only this process's root directory (no mount namespace needed):
// what `--upto chroot` does, so the lesson can show why it is not enough.
void chroot_into(const stdfs::path& root);

}  // namespace skiff::chroot
