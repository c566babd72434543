// 11-security/privileged.hpp — what --privileged adds: the host's devices.
//
// Kernel concept: a device node is only a name with a type and a
//   major:minor number; whoever can open it talks to the driver. A normal
//   container's /dev holds six harmless ones (02-chroot) and the device
//   policy of its cgroup refuses the rest. --privileged lifts the policy
//   (04-cgroups: every device allowed) and, as Docker does, makes a node in
//   the container's /dev for every device of the host's /dev: its disks
//   included. A privileged container can read and write the machine's
//   disks, load kernel modules and remount anything: it is not isolated.
// Man pages: mknod(2), makedev(3).
// Runs in: the child, after /dev is mounted, before pivot_root.
// Privilege: CAP_MKNOD.
// Lesson: lessons/11-security.
#pragma once

#include <filesystem>

namespace skiff::security {

// Makes, under ROOT/dev (the container's own tmpfs), a node for every
// character and block device of the host's /dev and its subdirectories
// (but /dev/pts, /dev/shm, /dev/mqueue, and the terminal devices the
// container has its own of), with the host's mode and owner.
void add_host_devices(const std::filesystem::path& root);

}  // namespace skiff::security
