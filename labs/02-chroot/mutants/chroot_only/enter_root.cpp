// labs/02-chroot/mutants/chroot_only/enter_root.cpp — the solution, but
// chroot(2) instead of pivot_root: the old root is still there to escape to.
#include "enter_root.hpp"

#include <sys/mount.h>
#include <unistd.h>

namespace lab {

void make_mounts_private() {
  // unshare(CLONE_NEWNS) copied the host's mounts, and a copy of a shared
  // mount stays in the host's peer group: what we mount would appear on the
  // host too. MS_PRIVATE on "/" and, with MS_REC, on every mount below it.
  check(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr),
        "make every mount private (mount / MS_REC|MS_PRIVATE)");
}

void make_root_a_mount(const std::string& rootfs) {
  // MS_REC carries along whatever is already mounted inside the root.
  check(::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr),
        "bind mount " + rootfs + " onto itself");
}

void pivot_into(const std::string& rootfs) {
  // pivot_root(".", ".") puts the old root on top of the new one, both at
  // "." — so "." must be the new root: chdir there first.
  check(::chdir(rootfs.c_str()), "chdir " + rootfs);
  // MUTANT: only the process's root directory moves; the old root mount stays.
  check(::chroot("."), "chroot " + rootfs);
  check(::chdir("/"), "chdir /");
}

}  // namespace lab
