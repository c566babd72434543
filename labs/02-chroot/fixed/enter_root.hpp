// labs/02-chroot/fixed/enter_root.hpp — the three steps you write in
// enter_root.cpp, and two helpers given to you. Do not change this file: the
// grader compiles its own copy.
//
// Man pages: mount(2), pivot_root(2), umount(2), chdir(2), mount_namespaces(7).
// Lesson: lessons/02-chroot. skiff's own version: runtime/02-chroot/rootfs.cpp
// (pivot_into) and runtime/03-namespaces (the private mounts).
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace lab {

// Step 1. Make every mount of this (new) mount namespace private, so that
// nothing mounted here shows up on the host, and so that pivot_root accepts
// the new root (it refuses shared mounts: EINVAL).
void make_mounts_private();

// Step 2. Make ROOTFS a mount point: pivot_root only swaps mounts, and a
// plain directory is not one. A bind mount of ROOTFS onto itself makes it one.
void make_root_a_mount(const std::string& rootfs);

// Step 3. Make ROOTFS the root of this mount namespace with pivot_root(2),
// detach the old root so that nothing of the host can be reached any more,
// and leave the process in the new "/". Leave no descriptor open: the
// command inherits every one that is not close-on-exec (O_CLOEXEC), and a
// directory of the host's is a way out of any root.
void pivot_into(const std::string& rootfs);

// Given: throws std::system_error(errno, WHAT) when RC is -1, the failure
// return of most system calls. main() prints it as "enter-root: WHAT: reason"
// and exits with 125. Wrap every call: check(::chdir(p), "chdir " + p);
inline void check(long rc, const std::string& what) {
  if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
}

// Given: glibc has no wrapper for pivot_root(2). Returns 0, or -1 and errno.
inline long pivot_root(const char* new_root, const char* put_old) {
  return ::syscall(SYS_pivot_root, new_root, put_old);
}

}  // namespace lab
