// labs/02-chroot/mutants/forgot_chdir/enter_root.cpp — the solution, but no
// chdir into the root before pivot_root(".", ".").
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
  // MUTANT: "." is wherever the program was started, not ROOTFS.
  check(pivot_root(".", "."), "pivot_root(\".\", \".\") in " + rootfs);
  // The old root is now stacked on "/". Detach it (MNT_DETACH: it is busy,
  // our own cwd was in it), and no path leads back to the host.
  check(::umount2(".", MNT_DETACH), "detach the old root (umount2 \".\", MNT_DETACH)");
  check(::chdir("/"), "chdir /");
}

}  // namespace lab
