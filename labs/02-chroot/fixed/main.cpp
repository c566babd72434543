// labs/02-chroot/fixed/main.cpp — enter-root ROOTFS COMMAND [ARG...]
//
// Runs COMMAND with ROOTFS as its root directory. This file is given and
// fixed; it sets the stage and calls your three steps (enter_root.cpp) in
// order, then replaces itself with COMMAND.
// Exit codes, Docker's: 125 when entering the root fails (the message says
// why), 126 when COMMAND cannot be run, 127 when it does not exist, else
// COMMAND's own.
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <iostream>

#include "enter_root.hpp"

int main(int argc, char* argv[]) {
  if (argc < 3) {
    std::cerr << "usage: enter-root ROOTFS COMMAND [ARG...]\n";
    return 125;
  }
  const std::string rootfs = argv[1];
  try {
    // A mount namespace of our own: a copy of the host's mount table that
    // this process (and what it runs) will change without the host seeing it
    // (once step 1 is done). Lesson 03 is about namespaces; here it is just
    // where pivot_root happens.
    lab::check(::unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)");
    lab::make_mounts_private();     // step 1
    lab::make_root_a_mount(rootfs); // step 2
    lab::pivot_into(rootfs);        // step 3
  } catch (const std::exception& e) {
    std::cerr << "enter-root: " << e.what() << '\n';
    return 125;
  }
  ::execvp(argv[2], argv + 2);
  const int error = errno;
  std::cerr << "enter-root: " << argv[2] << ": " << std::strerror(error) << '\n';
  return error == ENOENT ? 127 : 126;
}
