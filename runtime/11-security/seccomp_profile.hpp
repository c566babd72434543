// 11-security/seccomp_profile.hpp — a seccomp profile in Docker's JSON format, as plain data.
//
// A profile says what to do with each system call: a default action for
// every call it does not name, then rules "these calls, maybe only with
// these argument values, get this action". Rules can be conditional:
// `includes` / `excludes` on the container's capabilities, the machine's
// architecture and the kernel's version. Docker resolves those conditions
// before anything is compiled (moby's profiles/seccomp), and so does skiff:
// profile + capabilities + host → the rules that apply (`select_rules`), a
// pure step the unit tests check without loading anything.
// Man pages: seccomp(2) (the actions), seccomp_rule_add(3) (the comparisons).
// Runs in: anywhere; nothing here makes a system call except `this_host`.
// Lesson: lessons/11-security.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace skiff::security {

// "4.8": Docker compares only the first two numbers of a kernel release,
// so 6.1.0-18-amd64 is 6.1.
struct KernelVersion {
  unsigned major = 0;
  unsigned minor = 0;
  auto operator<=>(const KernelVersion&) const = default;
};
KernelVersion parse_kernel_version(std::string_view release);  // throws core::Error

// The machine the filter is for: its architecture by the name Docker's
// profiles use ("amd64", "arm64", "x86", …: Go's GOARCH as Docker spells
// it) and its kernel.
struct Host {
  std::string arch;
  KernelVersion kernel;
};
std::string_view native_arch();  // fixed when skiff is compiled
Host this_host();                // native_arch() and uname(2)'s release

// Compares argument INDEX (0–5) of the call with VALUE. For masked_eq the
// test is (arg & value) == value_two.
enum class Compare { ne, lt, le, eq, ge, gt, masked_eq };
struct ArgCompare {
  unsigned index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  Compare op = Compare::eq;
  bool operator==(const ArgCompare&) const = default;
};

// A rule applies when every listed cap is in the container's set, the
// machine is one of the arches and the kernel is at least min_kernel
// (includes); it is dropped when any one of them holds (excludes).
struct Condition {
  std::vector<std::string> caps;
  std::vector<std::string> arches;
  std::optional<KernelVersion> min_kernel;
  bool operator==(const Condition&) const = default;
};

// An action is the 32-bit value the filter returns to the kernel:
// SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | errno, SECCOMP_RET_KILL_PROCESS, …
// (libseccomp's SCMP_ACT_* are the same numbers).
struct SyscallRule {
  std::vector<std::string> names;
  uint32_t action = 0;
  std::vector<ArgCompare> args;  // all must hold
  Condition includes;
  Condition excludes;
  std::string comment;
};

// One entry of archMap: on ARCH, also filter the SUB_ARCHES (the 32-bit
// and x32 ABIs a 64-bit kernel also runs).
struct ArchGroup {
  std::string arch;  // "SCMP_ARCH_X86_64"
  std::vector<std::string> sub_arches;
};

struct Profile {
  bool confines = true;  // false for a profile with no defaultAction and no rules
  uint32_t default_action = 0;
  std::vector<std::string> architectures;  // explicit list, or…
  std::vector<ArchGroup> arch_map;         // …picked by the machine's arch
  std::vector<SyscallRule> syscalls;
  unsigned flags = 0;  // SECCOMP_FILTER_FLAG_* for seccomp(2)
};

// Reads Docker's format. Bad input (not JSON, an unknown action, operator
// or architecture, a rule without names…) throws core::Error with one
// line that names the field: "invalid seccomp profile: syscalls[3]: …".
Profile parse_profile(std::string_view json);

// Docker's includes/excludes, resolved for CAPS ("CAP_SYS_ADMIN", …) on HOST.
std::vector<const SyscallRule*> select_rules(const Profile& profile,
                                             const std::vector<std::string>& caps,
                                             const Host& host);
// The SCMP_ARCH_* names to filter on HOST: `architectures` if given, else
// the archMap entry for the host with its sub-architectures, else none
// (libseccomp then filters the native one only).
std::vector<std::string> select_architectures(const Profile& profile, const Host& host);

// What the conditions of a profile depend on, so that a filter compiled
// once can be reused wherever they come out the same: every capability
// named in includes/excludes, and the highest minKernel named.
std::vector<std::string> capabilities_named(const Profile& profile);
KernelVersion highest_min_kernel(const Profile& profile);

// "SCMP_ARCH_X86_64" → libseccomp's name for it, "x86_64" (seccomp_arch_resolve_name).
std::string libseccomp_arch_name(std::string_view scmp_arch);

}  // namespace skiff::security
