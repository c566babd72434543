// labs/11-security/fixed/filter.hpp — the four functions you write in
// filter.cpp, and what is given to you. Do not change this file: the grader
// compiles its own copy.
//
// A seccomp filter is a small program in classic BPF that the kernel runs on
// every system call the process makes, before the call itself. It reads one
// structure, struct seccomp_data (<linux/seccomp.h>):
//
//   offset  0  int   nr                    the system call's number
//   offset  4  u32   arch                  which ABI the call came through (AUDIT_ARCH_*)
//   offset  8  u64   instruction_pointer
//   offset 16  u64   args[6]               the six arguments, 8 bytes each
//
// and returns one 32-bit action: ALLOW, ERRNO|e (the call is not made and
// returns -1 with errno e), KILL_PROCESS, and a few more. The machine has one
// register that matters here, A (32 bits). You need four kinds of instruction:
//
//   load    stmt(BPF_LD | BPF_W | BPF_ABS, offset)      A = the 32-bit word at OFFSET
//   return  stmt(BPF_RET | BPF_K, action)               the answer; the program ends
//   jump    jump(BPF_JMP | BPF_JEQ | BPF_K, k, jt, jf)  if A == K skip JT instructions, else JF
//           (BPF_JGE: A >= K, unsigned; BPF_JSET: A & K != 0)
//   always  stmt(BPF_JMP | BPF_JA, n)                   skip N instructions
//
// A jump counts from the instruction after it: jt = 0 is "go on with the
// next one", jt = 1 skips one. JT and JF are 8 bits: no conditional jump
// goes further than 255 instructions. The kernel refuses (EINVAL) a program
// that jumps past its end or whose last instruction is not a return.
//
// The program is built in BLOCKS, and the blocks are put one after another
// (build_filter). The rule that lets you write each block alone:
//
//   A block starts with the system call's number in A. It either returns an
//   action, or it ends by falling off its last instruction into the next
//   block, with the number still in A. No jump leaves the block except by
//   falling off its end (a jump to one past its last instruction).
//
// check_arch() is the exception that starts the chain: it loads the number.
//
// This lab is for x86_64, where a 64-bit program can make calls through two
// other ABIs, each with its own numbers — and that is the first thing a filter
// must deal with:
//   - i386: the instruction `int 0x80` makes a 32-bit call even from a 64-bit
//     program; arch is AUDIT_ARCH_I386 and nr an i386 number (10 is unlink
//     there, mprotect on x86_64);
//   - x32: a 64-bit call whose number has bit 30 set (__X32_SYSCALL_BIT,
//     0x40000000); arch is AUDIT_ARCH_X86_64, as for a normal call.
//
// Man pages: seccomp(2), prctl(2) PR_SET_NO_NEW_PRIVS, clone(2), clone3 in
// clone(2), syscall(2) (the ABIs), syscalls(2). Kernel documentation:
// Documentation/userspace-api/seccomp_filter.rst. Lesson: lessons/11-security.
// skiff's own: runtime/11-security applies Docker's default profile, compiled
// to the same kind of program by libseccomp.
#pragma once

#if !defined(__x86_64__)
#error "lab 11 is about x86_64's three ABIs: build it on x86_64"
#endif

#include <asm/unistd.h>  // __X32_SYSCALL_BIT
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lab {

using Program = std::vector<sock_filter>;

// ---- given: the awkward bits ---------------------------------------------------

// Where to load from (BPF_ABS offsets into struct seccomp_data).
inline constexpr uint32_t kNrOffset = offsetof(struct seccomp_data, nr);
inline constexpr uint32_t kArchOffset = offsetof(struct seccomp_data, arch);
// An argument is 64 bits, a load 32: on x86_64 (little-endian) the low half
// comes first. args[i] is at 16 + 8*i (its low half), 20 + 8*i (its high half).
inline constexpr uint32_t arg_low_offset(int i) { return offsetof(struct seccomp_data, args) + 8 * i; }
inline constexpr uint32_t arg_high_offset(int i) { return arg_low_offset(i) + 4; }

// The one ABI this filter is for, and the bit that marks an x32 call.
inline constexpr uint32_t kArch = AUDIT_ARCH_X86_64;
inline constexpr uint32_t kX32Bit = __X32_SYSCALL_BIT;

// clone's namespace flags, the mask Docker's profile tests: 0x7E020000.
inline constexpr uint32_t kNamespaceFlags = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |
                                            CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

// BPF_STMT and BPF_JUMP (<linux/filter.h>) as functions: C++ refuses the
// macros' braces for values it cannot check at compile time, and a jump of
// more than 255 would be cut silently. These stop with fail() instead.
[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

inline sock_filter stmt(uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; }

inline sock_filter jump(uint16_t code, uint32_t k, std::size_t jt, std::size_t jf) {
  if (jt > 255 || jf > 255)
    fail("a jump of " + std::to_string(jt > 255 ? jt : jf) + " instructions: more than 255 (8 bits)");
  return sock_filter{code, static_cast<uint8_t>(jt), static_cast<uint8_t>(jf), k};
}

// Puts BLOCK at the end of PROGRAM.
inline void append(Program& program, const Program& block) {
  program.insert(program.end(), block.begin(), block.end());
}

// What every program run by sandbox needs, on x86_64: a static C program
// (glibc's start-up, stdio, malloc, threads, fork, exit) and the execve that
// starts it. main() passes this list, plus the numbers of --allow, to
// build_filter(). It never holds clone or clone3: guard_clone() decides those.
// Not in it, and so refused: ioctl, for one — glibc's stdio asks whether
// stdout is a terminal (TCGETS), gets EPERM, and carries on without.
inline const std::vector<uint32_t> kAllowed = {
    SYS_read,         SYS_write,          SYS_close,        SYS_fstat,
    SYS_newfstatat,   SYS_readlink,       SYS_mmap,         SYS_mprotect,
    SYS_munmap,       SYS_madvise,        SYS_brk,          SYS_rt_sigaction,
    SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_futex,        SYS_getrandom,
    SYS_execve,       SYS_arch_prctl,     SYS_set_tid_address, SYS_set_robust_list,
    SYS_rseq,         SYS_prlimit64,      SYS_getpid,       SYS_gettid,
    SYS_wait4,        SYS_exit,           SYS_exit_group,
};

// ---- yours (filter.cpp) --------------------------------------------------------

// Part 1. The first block: the ABI. Load arch; anything but kArch kills the
// process (SECCOMP_RET_KILL_PROCESS — not SECCOMP_RET_KILL, which is the old
// name of KILL_THREAD and leaves the rest of the process running). Then load
// nr, and kill an x32 call (nr with kX32Bit set) the same way. Falls off its
// end with nr in A.
// Why kill and not refuse: a program built for x86_64 never makes these calls
// by mistake; one that does is trying to get round the numbers below.
Program check_arch();

// Part 2. A block: SECCOMP_RET_ALLOW when nr is one of NUMBERS; otherwise fall
// off the end. One way: a JEQ for each number, all jumping to one
// RET ALLOW at the end of the block, with a JA over it for "none matched" —
// count the distances. (A JEQ + RET ALLOW pair for each number works too.)
Program allow_syscalls(const std::vector<uint32_t>& numbers);

// Part 3. A block for the calls that make a process, so that no namespace is
// made by any of them:
//   - clone (SYS_clone): flags are its first argument, args[0]. Any of
//     kNamespaceFlags set → SECCOMP_RET_ERRNO | EPERM; none → ALLOW (fork and
//     pthread_create use clone, with other flags). The kernel reads only the
//     low 32 bits of clone's flags, and every namespace flag lies there.
//     Loading args[0] overwrites nr in A: this part must return whichever way.
//   - clone3 (SYS_clone3): its flags are in a structure in memory, which a
//     seccomp filter cannot read. Refuse it with ENOSYS ("no such call on this
//     kernel"): glibc then falls back to clone, whose flags you can check.
//     (Any other errno and pthread_create fails.)
// Every other number falls off the end. (unshare and setns, the other doors
// into a namespace, are on no list: the default refuses them.)
Program guard_clone();

// Part 4. The whole program: the blocks above in the order that makes them
// right, then the default for everything no block decided:
// SECCOMP_RET_ERRNO | EPERM (the errno goes in the low 16 bits, the action's
// SECCOMP_RET_DATA). Not a kill: a program must be able to see a refusal and
// carry on (Docker's default profile answers EPERM the same way).
Program build_filter(const std::vector<uint32_t>& allowed);

}  // namespace lab
