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

#include <string>

namespace skiff::ns {

// The namespaces every container gets. The cgroup namespace is not among
// them: the child unshares it itself once the parent has moved it into its
// cgroup, so that the container's view of /sys/fs/cgroup starts at its own
// group (a namespace's root is fixed when it is made).
unsigned long clone_flags();

// fork(2) with FLAGS: the child returns 0 and carries on in the new
// namespaces; the parent gets the child's pid as seen from the host.
// Like fork, the child has a copy of the caller's memory, so the caller must
// be single-threaded (skiff's launcher is).
pid_t clone_process(unsigned long flags);

// Stops mount events from travelling between the host and the container:
// without it, mounts made for the container could appear on the host (and
// pivot_root refuses to move a root whose mount is shared).
void make_mounts_private();

void set_hostname(const std::string& hostname);

// A new network namespace has one device, lo, and it is down. With it up,
// 127.0.0.1 works inside even with --net none.
void bring_up_loopback();

}  // namespace skiff::ns
