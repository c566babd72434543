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

// A node of the host's given to the container (--device HOST:PATH): made
// at PATH (absolute, inside the container) with the host's type and number.
struct DeviceNode {
  std::string path;   // "/dev/xvdc"
  char type = 'c';    // 'c' or 'b'
  unsigned major = 0;
  unsigned minor = 0;
  unsigned mode = 0660;  // permission bits
  unsigned uid = 0, gid = 0;
  std::string host_path;     // as given, for inspect: "/dev/sdc"
  std::string permissions;   // "rwm", for inspect (the rule itself is the cgroup's)
  bool operator==(const DeviceNode&) const = default;
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

// Makes each of NODES under ROOT, parents created, every path resolved
// inside ROOT. After mount_system (they usually live in /dev).
void make_device_nodes(const stdfs::path& root, const std::vector<DeviceNode>& nodes);

// Makes ROOT the root of the mount namespace with pivot_root(2), then
// detaches the old root so it cannot be reached again. ROOT must be a mount.
void pivot_into(const stdfs::path& root);

// Changes only this process's root directory (no mount namespace needed):
// what `--upto chroot` does, so the lesson can show why it is not enough.
void chroot_into(const stdfs::path& root);

}  // namespace skiff::chroot
