// 11-security/capabilities.cpp — see capabilities.hpp.
#include "11-security/capabilities.hpp"

#include <sys/capability.h>
#include <sys/prctl.h>

#include <algorithm>
#include <memory>

#include "core/error.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::security {
namespace {

// libcap hands out objects that cap_free() releases: one owner for all.
struct CapFree {
  void operator()(void* p) const { cap_free(p); }
};
using CapState = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

cap_value_t cap_from_name(const std::string& name) {
  cap_value_t value;
  if (::cap_from_name(name.c_str(), &value) < 0) throw core::Error("unknown capability " + name);
  return value;
}

std::vector<cap_value_t> values_of(const std::vector<std::string>& names) {
  std::vector<cap_value_t> out;
  for (const auto& n : names) out.push_back(cap_from_name(n));
  return out;
}

}  // namespace

const std::vector<std::string>& default_capabilities() {
  static const std::vector<std::string> caps = {
      "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",   "CAP_FOWNER",     "CAP_MKNOD",
      "CAP_NET_RAW", "CAP_SETGID",      "CAP_SETUID",   "CAP_SETFCAP",    "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"};
  return caps;
}

uint64_t capability_mask(const std::vector<std::string>& names) {
  uint64_t mask = 0;
  for (cap_value_t v : values_of(names)) mask |= uint64_t{1} << v;
  return mask;
}

void drop_bounding_set(const std::vector<std::string>& keep) {
  const auto kept = values_of(keep);
  core::trace::call("prctl(PR_CAPBSET_DROP, every capability but the " +
                    std::to_string(kept.size()) + " kept)");
  for (cap_value_t cap = 0; cap <= static_cast<cap_value_t>(cap_max_bits()) - 1; ++cap) {
    if (std::find(kept.begin(), kept.end(), cap) != kept.end()) continue;
    if (cap_drop_bound(cap) < 0) {
      char* name = cap_to_name(cap);
      std::string text = name ? name : std::to_string(cap);
      cap_free(name);
      throw core::SystemError(errno, "prctl(PR_CAPBSET_DROP, " + text + ")");
    }
  }
}

void set_process_capabilities(const std::vector<std::string>& keep) {
  auto kept = values_of(keep);
  CapState caps(cap_init());
  if (!caps) throw core::SystemError(errno, "cap_init");
  // The inheritable set stays empty (cap_init's): with it filled, a program
  // carrying file capabilities would get them across execve even as a
  // non-root user — runc's and Docker's CVE-2022-24769.
  for (cap_flag_t set : {CAP_EFFECTIVE, CAP_PERMITTED})
    cap_set_flag(caps.get(), set, static_cast<int>(kept.size()), kept.data(), CAP_SET);
  core::trace::call("capset(effective = permitted = the kept set, inheritable = none)");
  if (cap_set_proc(caps.get()) < 0) throw core::SystemError(errno, "capset");
  // Ambient capabilities survive execve for non-root users: start from none.
  if (cap_reset_ambient() < 0) throw core::SystemError(errno, "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
}

void keep_capabilities_across_setuid() {
  core::sys::prctl(PR_SET_KEEPCAPS, 1, "PR_SET_KEEPCAPS, 1");
}

void set_no_new_privs() { core::sys::prctl(PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS, 1"); }

}  // namespace skiff::security
