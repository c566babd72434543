// labs/02-chroot/mutants/unchecked_errors/enter_root.cpp — the solution, but
// no return value is checked: a failed step goes unnoticed.
#include "enter_root.hpp"

#include <sys/mount.h>
#include <unistd.h>

namespace lab {

// MUTANT: every call below ignores its return value.
void make_mounts_private() {
  ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr);
}

void make_root_a_mount(const std::string& rootfs) {
  ::mount(rootfs.c_str(), rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
}

void pivot_into(const std::string& rootfs) {
  ::chdir(rootfs.c_str());
  pivot_root(".", ".");
  ::umount2(".", MNT_DETACH);
  ::chdir("/");
}

}  // namespace lab
