// 11-security/policy.hpp — what a container may do, as plain data.
//
// Kernel concept: none of its own; this is the "describe first" half of the
//   security module (STYLE.md). The CLI turns --cap-add, --cap-drop,
//   --privileged and --security-opt into a Policy, saved in the container's
//   config.json; the child side (capabilities.hpp, seccomp.hpp, the masked
//   paths) applies it. Docker's rules decide every default:
//   - capabilities: Docker's 14, minus --cap-drop, plus --cap-add ("ALL"
//     in either list means every capability this kernel knows);
//   - --privileged: every capability, every device, no seccomp filter, no
//     masked or read-only kernel files. It gives the container the host:
//     treat it as running the command as root on the machine itself;
//   - no_new_privs is off unless --security-opt no-new-privileges, so that
//     setuid programs (su, sudo, ping on old images) work as in Docker;
//   - seccomp: Docker's default profile, unless
//     --security-opt seccomp=unconfined or seccomp=PROFILE.json.
// Runs in: the CLI (pure).
// Lesson: lessons/11-security.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "11-security/capabilities.hpp"
#include "11-security/userns.hpp"

namespace skiff::security {

struct Policy {
  bool privileged = false;                 // --privileged
  std::vector<std::string> cap_add;        // as given, normalised ("CAP_NET_ADMIN", "ALL")
  std::vector<std::string> cap_drop;
  // The set the command gets (bounding and, for root, effective).
  std::vector<std::string> capabilities = default_capabilities();
  bool no_new_privileges = false;          // --security-opt no-new-privileges
  std::string seccomp;                     // "" Docker's default, "unconfined", or a profile's JSON text
  std::vector<std::string> security_opt;   // as typed, for inspect's HostConfig.SecurityOpt
  Userns userns;                           // --userns: the host's ids, or a remapped range
};

// Every capability the running kernel knows that this process holds in
// its bounding set, by name ("CAP_CHOWN" …): what "ALL" and --privileged give.
std::vector<std::string> all_capabilities();

// "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all become "CAP_NET_ADMIN";
// "all" becomes "ALL". Throws core::Error naming a capability the kernel
// does not know ("unknown capability: \"CAP_FOO\"") or that skiff itself
// does not hold.
std::string normalize_capability(const std::string& name);

// Docker's rule for the final set: ALL in ADD gives every capability but
// those in DROP; ALL in DROP gives only ADD; otherwise the default set
// minus DROP plus ADD. PRIVILEGED gives every capability. Pure.
std::vector<std::string> resolve_capabilities(bool privileged, const std::vector<std::string>& add,
                                              const std::vector<std::string>& drop);

// Applies one --security-opt value to POLICY: no-new-privileges[=true|false]
// (":" is accepted for "=", as Docker does), seccomp=unconfined,
// seccomp=PATH (READ gives the file's text; the profile is checked here, so
// a bad one fails before anything is made), apparmor=… and label=… (kept
// for inspect; skiff applies no LSM profile). Throws core::Error with
// Docker's wording for anything else.
void apply_security_opt(Policy& policy, const std::string& opt,
                        const std::function<std::string(const std::string&)>& read);

void to_json(nlohmann::json& j, const Policy& p);
void from_json(const nlohmann::json& j, Policy& p);

}  // namespace skiff::security
