// labs/11-security/solution/filter.cpp — the reference solution.
#include "filter.hpp"

#include <cerrno>

namespace lab {

Program check_arch() {
  return {
      // The ABI first: until it is known, a number means nothing (10 is
      // mprotect for x86_64, unlink for i386).
      stmt(BPF_LD | BPF_W | BPF_ABS, kArchOffset),
      jump(BPF_JMP | BPF_JEQ | BPF_K, kArch, 1, 0),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      // x32 shares x86_64's arch value; only bit 30 of the number tells it.
      // Every number at or above it is x32's.
      stmt(BPF_LD | BPF_W | BPF_ABS, kNrOffset),
      jump(BPF_JMP | BPF_JGE | BPF_K, kX32Bit, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
  };
}

Program allow_syscalls(const std::vector<uint32_t>& numbers) {
  // N compares, then "JA 1" over the one RET ALLOW they all jump to. From
  // compare I (0-based) the RET is at N + 1, so it skips N - I instructions.
  const std::size_t n = numbers.size();
  Program block;
  for (std::size_t i = 0; i < n; ++i) block.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, numbers[i], n - i, 0));
  block.push_back(stmt(BPF_JMP | BPF_JA, 1));
  block.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  return block;
}

Program guard_clone() {
  return {
      // 0: not clone → 5, the clone3 test.
      jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
      // 1: flags, the low half of args[0] (the kernel ignores the high half).
      stmt(BPF_LD | BPF_W | BPF_ABS, arg_low_offset(0)),
      // 2: any namespace flag → 3, else → 4. A no longer holds nr: both return.
      jump(BPF_JMP | BPF_JSET | BPF_K, kNamespaceFlags, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      // 5: clone3's flags are out of reach: "no such call", and glibc falls
      // back to clone.
      jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
  };
}

Program build_filter(const std::vector<uint32_t>& allowed) {
  Program program = check_arch();  // first: the numbers below are x86_64's
  append(program, guard_clone());
  append(program, allow_syscalls(allowed));
  // Whatever no block decided: refused, and the program goes on.
  program.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
  return program;
}

}  // namespace lab
