// 11-security/policy.cpp — see policy.hpp.
#include "11-security/policy.hpp"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "11-security/capabilities.hpp"
#include "11-security/seccomp.hpp"
#include "core/error.hpp"

namespace skiff::security {
namespace {

bool has(const std::vector<std::string>& list, const std::string& name) {
  return std::find(list.begin(), list.end(), name) != list.end();
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "no-new-privileges", "no-new-privileges=false", "seccomp:unconfined":
// Docker takes '=' and, from older versions, ':'.
std::pair<std::string, std::string> split_opt(const std::string& opt) {
  auto at = opt.find_first_of("=:");
  if (at == std::string::npos) return {opt, ""};
  return {opt.substr(0, at), opt.substr(at + 1)};
}

bool parse_bool(const std::string& opt, const std::string& value) {
  if (value.empty() || value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  throw core::Error("invalid --security-opt 2: \"" + opt + "\"");
}

}  // namespace

namespace {

std::string name_of(cap_value_t cap) {
  char* name = cap_to_name(cap);
  std::string out = name ? upper(name) : std::to_string(cap);
  cap_free(name);
  return out;
}

std::vector<std::string> known_capabilities() {
  std::vector<std::string> out;
  for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(cap_max_bits()); ++cap)
    out.push_back(name_of(cap));
  return out;
}

}  // namespace

std::vector<std::string> all_capabilities() {
  // Not every root holds every capability (a root inside a container or a
  // VM that lacks one: this machine's has no CAP_SYS_RESOURCE), and no
  // process can give what it does not have. "All" is what we hold.
  std::vector<std::string> out;
  for (cap_value_t cap = 0; cap < static_cast<cap_value_t>(cap_max_bits()); ++cap)
    if (cap_get_bound(cap) == 1) out.push_back(name_of(cap));
  return out;
}

std::string normalize_capability(const std::string& name) {
  std::string cap = upper(name);
  if (cap == "ALL") return cap;
  if (!cap.starts_with("CAP_")) cap = "CAP_" + cap;
  if (!has(known_capabilities(), cap)) throw core::Error("unknown capability: \"" + cap + "\"");
  if (!has(all_capabilities(), cap))
    throw core::Error("capability " + cap + " is not held by skiff on this host, so no container can have it");
  return cap;
}

std::vector<std::string> resolve_capabilities(bool privileged, const std::vector<std::string>& add,
                                              const std::vector<std::string>& drop) {
  if (privileged) return all_capabilities();
  std::vector<std::string> caps;
  if (has(add, "ALL")) {
    for (const auto& c : all_capabilities())
      if (!has(drop, c)) caps.push_back(c);
    return caps;
  }
  if (has(drop, "ALL")) return add;
  for (const auto& c : default_capabilities())
    if (!has(drop, c)) caps.push_back(c);
  for (const auto& c : add)
    if (!has(caps, c)) caps.push_back(c);
  return caps;
}

void apply_security_opt(Policy& policy, const std::string& opt,
                        const std::function<std::string(const std::string&)>& read) {
  auto [key, value] = split_opt(opt);
  if (key == "no-new-privileges") {
    policy.no_new_privileges = parse_bool(opt, value);
  } else if (key == "seccomp" && !value.empty()) {
    policy.seccomp = value == "unconfined" ? value : read(value);
    try {  // compiled once here, so that a bad profile fails before anything is made
      validate_seccomp_profile(policy.seccomp, policy.capabilities);
    } catch (const core::Error& e) {
      throw core::Error("seccomp profile " + value + ": " + e.what());
    }
  } else if ((key == "apparmor" || key == "label") && !value.empty()) {
    // No LSM profile is loaded by skiff: accepted so that commands written
    // for Docker run, and kept for inspect.
  } else {
    throw core::Error("invalid --security-opt 2: \"" + opt + "\"");
  }
  policy.security_opt.push_back(opt);
}

void to_json(nlohmann::json& j, const Policy& p) {
  j = {{"Privileged", p.privileged},           {"CapAdd", p.cap_add},
       {"CapDrop", p.cap_drop},                 {"Capabilities", p.capabilities},
       {"NoNewPrivileges", p.no_new_privileges}, {"Seccomp", p.seccomp},
       {"SecurityOpt", p.security_opt}, {"Userns", p.userns}};
}

void from_json(const nlohmann::json& j, Policy& p) {
  p.privileged = j.value("Privileged", false);
  p.cap_add = j.value("CapAdd", std::vector<std::string>{});
  p.cap_drop = j.value("CapDrop", std::vector<std::string>{});
  p.capabilities = j.value("Capabilities", default_capabilities());
  p.no_new_privileges = j.value("NoNewPrivileges", false);
  p.seccomp = j.value("Seccomp", std::string());
  p.security_opt = j.value("SecurityOpt", std::vector<std::string>{});
  if (j.contains("Userns")) j.at("Userns").get_to(p.userns);
}

}  // namespace skiff::security
