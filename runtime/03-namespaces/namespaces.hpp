// 03-namespaces/namespaces.hpp — giving the container its own view.
//
// Kernel concept: a namespace wraps one global resource so that the
//   processes inside see their own copy: the hostname (uts), the process ids
//   (pid), the mount table (mnt), System V IPC (ipc), network devices (net),
//   the cgroup tree's root (cgroup), user and group ids (user).
// Man pages: namespaces(7), clone(2), unshare(2), setns(2), pid_namespaces(7),
//   mount_namespaces(7), uts_namespaces(7), network_namespaces(7).
// Runs in: the parent (clone) and the child (everything else).
// Privilege: CAP_SYS_ADMIN in the user namespace that owns the new ones.
// Lesson: lessons/03-namespaces.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace skiff::ns {

// The namespaces every container gets. The cgroup namespace is not among
// them: the child unshares it itself once it is in its cgroup (born there
// or moved there), so that the container's view of /sys/fs/cgroup starts at its own
// group (a namespace's root is fixed when it is made).
unsigned long clone_flags();

// fork(2) with FLAGS: the child returns 0 and carries on in the new
// namespaces; the parent gets the child's pid as seen from the host.
// Like fork, the child has a copy of the caller's memory, so the caller must
// be single-threaded (skiff's launcher is).
pid_t clone_process(unsigned long flags);

// The same, but the child is born inside the cgroup v2 directory CGROUP_FD
// (clone3(2) with CLONE_INTO_CGROUP, Linux 5.7): no move afterwards, so no
// moment when the container's first process is in the launcher's group,
// and none of the global lock a move takes (lesson 04). SHOWN names the
// directory in --explain. std::nullopt when the kernel has no clone3 or no
// CLONE_INTO_CGROUP: the caller then clones and moves the child.
std::optional<pid_t> clone_process_into(unsigned long flags, int cgroup_fd,
                                        const std::string& shown);

// Stops mount events from travelling between the host and the container:
// without it, mounts made for the container could appear on the host (and
// pivot_root refuses to move a root whose mount is shared).
void make_mounts_private();

void set_hostname(const std::string& hostname);

// A new network namespace has one device, lo, and it is down. With it up,
// 127.0.0.1 works inside even with --net none.
void bring_up_loopback();

}  // namespace skiff::ns
