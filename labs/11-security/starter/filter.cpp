// labs/11-security/starter/filter.cpp — your part of sandbox.
//
// fixed/main.cpp calls build_filter(), installs what it returns as the
// process's seccomp filter, and runs the program it was given under it.
// Read filter.hpp first: it shows the four instructions you need, the rule
// that lets each block be written alone, and gives you stmt(), jump(),
// append() and the offsets and constants.
// See your program:  sandbox --dump          (one instruction a line, jumps as indexes)
// Build and grade:   make grade LAB=11 SRC=path/to/your/folder
#include "filter.hpp"

#include <cerrno>

namespace lab {

Program check_arch() {
  // TODO(part 1): load arch; if it is not kArch, return
  // SECCOMP_RET_KILL_PROCESS. Then load nr; if it has kX32Bit (or more), kill
  // the same way. End with nr in A.
  return {};
}

Program allow_syscalls(const std::vector<uint32_t>& numbers) {
  // TODO(part 2): for each number, a BPF_JEQ that jumps to one RET ALLOW;
  // a JA over that RET for "none matched". Write the offsets out on paper for
  // a list of three first; --dump shows where each jump lands.
  (void)numbers;
  return {};
}

Program guard_clone() {
  // TODO(part 3):
  //   clone:  load the low half of args[0]; any of kNamespaceFlags set →
  //           ERRNO | EPERM, else ALLOW (both branches return: A is no
  //           longer nr);
  //   clone3: ERRNO | ENOSYS, so that glibc falls back to clone;
  //   anything else: fall off the end.
  return {};
}

Program build_filter(const std::vector<uint32_t>& allowed) {
  // TODO(part 4): the blocks in an order that makes each one right, then the
  // default return for everything else (refused with EPERM, not killed).
  // This starter allows everything, so that sandbox runs at all.
  (void)allowed;
  Program program;
  program.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return program;
}

}  // namespace lab
