// 11-security/seccomp.hpp — a filter on every system call the container makes.
//
// Kernel concept: seccomp attaches a small classic-BPF program to a process.
//   On every system call, before the kernel does anything, the program
//   reads a `struct seccomp_data` (the architecture, the call's number, its
//   six arguments as raw integers) and returns an action: allow, fail with
//   an errno, kill, trap, log. It cannot follow pointers, so it sees
//   clone's flags (a register) but not clone3's (a struct in memory), and it
//   is inherited by every child and kept across execve: once loaded, it is
//   there for good. Syscall numbers differ between ABIs, so the program
//   first checks the architecture; on x86-64 the x32 ABI shares the arch
//   value and marks its calls with bit 30 (__X32_SYSCALL_BIT) instead,
//   which libseccomp checks for too, so no ABI is a way around the list.
//   skiff applies Docker's default profile: an allow-list of ~370 calls,
//   EPERM for the rest, wider for a container given more capabilities.
// Man pages: seccomp(2), seccomp_rule_add(3), seccomp_export_bpf(3),
//   seccomp_arch_add(3), seccomp_init(3).
// Runs in: the child, the last step before exec (after the capabilities
//   are dropped: every call the pipeline still makes must get through).
//   `filter_for` may run earlier, in the parent, so the child only loads.
// Privilege: loading needs no_new_privs set (set_no_new_privs) or
//   CAP_SYS_ADMIN; otherwise seccomp(2) fails with EACCES. The pipeline
//   decides the order; the filter must allow whatever follows it (execve).
// Lesson: lessons/11-security.
//
// Speed: compiling Docker's profile with libseccomp takes ~11 ms, more than
// the rest of a start, so the default profile with Docker's default
// capabilities is compiled when skiff is built (seccomp_compile_main.cpp)
// and stored in the binary; `filter_for` hands that out, untouched
// (~0.3 us), whenever the capabilities the profile's conditions look at are
// the same. The load itself then costs ~0.2 ms, spent in the kernel.
#pragma once

#include <linux/filter.h>

#include <span>
#include <string>
#include <vector>

#include "11-security/seccomp_profile.hpp"

namespace skiff::security {

// A classic BPF program, one instruction per entry.
using Program = std::vector<sock_filter>;

// What the child loads: nothing (unconfined), the built-in program, or one
// compiled for this container.
class Filter {
 public:
  Filter() = default;  // unconfined
  Filter(Program compiled, unsigned flags) : owned_(std::move(compiled)), flags_(flags) {}
  static Filter built_in();

  std::span<const sock_filter> program() const {
    return built_in_ ? built_in_program() : std::span<const sock_filter>(owned_);
  }
  unsigned flags() const { return flags_; }  // SECCOMP_FILTER_FLAG_*
  bool empty() const { return program().empty(); }
  bool is_built_in() const { return built_in_; }

 private:
  static std::span<const sock_filter> built_in_program();
  Program owned_;
  unsigned flags_ = 0;
  bool built_in_ = false;
};

// Docker's default profile (seccomp-default.json), as built into skiff.
std::string_view default_seccomp_profile();

// libseccomp: the rules that apply to CAPS on HOST, for the host's
// architecture and the profile's sub-architectures, as BPF. Syscall names
// this libseccomp does not know are skipped, as Docker does. Throws
// core::Error naming the rule libseccomp refuses.
Program compile(const Profile& profile, const std::vector<std::string>& caps, const Host& host);

// seccomp(SECCOMP_SET_MODE_FILTER, flags, program). See "Privilege" above.
void load(const Filter& filter);

// The filter for a container. PROFILE is "" (Docker's default profile),
// "unconfined" (no filter), or the JSON text of a profile in Docker's format
// (`--security-opt seccomp=FILE` stores the file's text, as Docker does);
// CAPS is the container's final capability set. The default profile comes
// built in whenever the capabilities its rules name are the same as in
// Docker's default set and the kernel is at least its highest minKernel.
Filter filter_for(const std::string& profile, const std::vector<std::string>& caps);

// filter_for, then load: the child's step.
void apply_seccomp(const std::string& profile, const std::vector<std::string>& caps);

// For `run`, before anything is made: throws core::Error if PROFILE cannot
// be read or compiled (libseccomp refuses some rules only when they are
// added). A custom profile is compiled once and the result thrown away.
void validate_seccomp_profile(const std::string& profile, const std::vector<std::string>& caps);

}  // namespace skiff::security
