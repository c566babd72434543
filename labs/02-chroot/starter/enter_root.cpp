// labs/02-chroot/starter/enter_root.cpp — your part of enter-root.
//
// fixed/main.cpp calls your three functions in order, inside a new mount
// namespace, then runs the command. Read enter_root.hpp first: it says what
// each step must achieve and gives you check() and pivot_root().
// Build and grade:   make grade LAB=02 SRC=path/to/your/folder
#include "enter_root.hpp"

#include <sys/mount.h>
#include <unistd.h>

namespace lab {

void make_mounts_private() {
  // TODO(step 1): one mount(2) call on "/" that makes every mount of this
  // namespace private (look up MS_PRIVATE and MS_REC). Wrap it in check().
}

void make_root_a_mount(const std::string& rootfs) {
  // TODO(step 2): bind mount ROOTFS onto itself (MS_BIND, and MS_REC to keep
  // what is mounted inside it). Make the error message name ROOTFS: it is
  // what a user needs to see when the root does not exist.
  (void)rootfs;
}

void pivot_into(const std::string& rootfs) {
  // TODO(step 3): in this order —
  //   chdir into ROOTFS;
  //   pivot_root(".", ".")           the new root becomes "/", the old one sits on top of it;
  //   umount2(".", MNT_DETACH)       detach the old root: the host is gone;
  //   chdir("/").
  // A chroot(2) would look the same from inside. The grader's escape program
  // knows the difference. You need no file descriptor here; if you open one,
  // make it O_CLOEXEC or close it: the command must not inherit the host.
  (void)rootfs;
}

}  // namespace lab
