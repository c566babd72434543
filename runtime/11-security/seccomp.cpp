// 11-security/seccomp.cpp — see seccomp.hpp. The run-time side: the
// built-in program, the choice between it and a compile, and the load.
#include "11-security/seccomp.hpp"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.hpp"
#include "core/trace.hpp"

namespace skiff::security {
namespace {

// The generated file names, for each capability the default profile's
// rules look at, whether the built-in program was compiled with it.
struct CapAssumption {
  std::string_view name;
  bool held;
};

namespace generated {
// Made at build time by skiff-seccomp-compile from seccomp-default.json:
// kProfile (the JSON text), kProgram, kFlags, kMinKernel, kCaps.
#include "11-security/seccomp_default.inc"
}  // namespace generated

bool holds(const std::vector<std::string>& caps, std::string_view cap) {
  return std::find(caps.begin(), caps.end(), cap) != caps.end();
}

// The built-in program is what compile() gives for CAPS on this machine when
// every condition of the profile comes out as it did at build time.
bool built_in_fits(const std::vector<std::string>& caps) {
  for (const auto& c : generated::kCaps)
    if (holds(caps, c.name) != c.held) return false;
  return this_host().kernel >= generated::kMinKernel;
}

std::string flag_names(unsigned flags) {
  if (flags == 0) return "0";
  std::string out;
  auto add = [&](unsigned bit, const char* name) {
    if (flags & bit) out += (out.empty() ? "" : "|") + std::string(name);
  };
  add(SECCOMP_FILTER_FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC");
  add(SECCOMP_FILTER_FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG");
  add(SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW");
  return out;
}

}  // namespace

Filter Filter::built_in() {
  Filter f;
  f.flags_ = generated::kFlags;
  f.built_in_ = true;
  return f;
}

std::span<const sock_filter> Filter::built_in_program() { return generated::kProgram; }

std::string_view default_seccomp_profile() { return generated::kProfile; }

void load(const Filter& filter) {
  auto program = filter.program();
  if (program.empty()) return;  // unconfined
  std::string call = "seccomp(SECCOMP_SET_MODE_FILTER, " + flag_names(filter.flags()) + ", " +
                     std::to_string(program.size()) + " BPF instructions, " +
                     (filter.is_built_in() ? "built in" : "compiled for this container") + ")";
  // The kernel's limit (BPF_MAXINSNS); sock_fprog counts in 16 bits.
  if (program.size() > BPF_MAXINSNS) throw core::SystemError(E2BIG, call);
  sock_fprog prog{static_cast<unsigned short>(program.size()),
                  const_cast<sock_filter*>(program.data())};
  core::trace::call(call);
  // Raw syscall: glibc has no wrapper, and skiff wants no libseccomp here.
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, filter.flags(), &prog) != 0)
    throw core::SystemError(errno, call);
}

Filter filter_for(const std::string& profile, const std::vector<std::string>& caps) {
  if (profile == "unconfined") return Filter();
  if (profile.empty() && built_in_fits(caps)) return Filter::built_in();
  Profile parsed = parse_profile(profile.empty() ? default_seccomp_profile() : profile);
  if (!parsed.confines) return Filter();
  return Filter(compile(parsed, caps, this_host()), parsed.flags);
}

void apply_seccomp(const std::string& profile, const std::vector<std::string>& caps) {
  load(filter_for(profile, caps));
}

void validate_seccomp_profile(const std::string& profile, const std::vector<std::string>& caps) {
  // The default profile was compiled when skiff was built: it is known good.
  if (profile.empty() || profile == "unconfined") return;
  filter_for(profile, caps);
}

}  // namespace skiff::security
