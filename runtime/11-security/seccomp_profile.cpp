// 11-security/seccomp_profile.cpp — see seccomp_profile.hpp.
#include "11-security/seccomp_profile.hpp"

#include <linux/seccomp.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace skiff::security {
namespace {

using json = nlohmann::json;

// ---- Docker's names, as tables --------------------------------------------

struct ActionName {
  std::string_view name;
  uint32_t ret;
  bool takes_errno;  // errnoRet goes into the low 16 bits
};
constexpr ActionName kActions[] = {
    {"SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW, false},
    {"SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO, true},
    {"SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD, false},
    {"SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SECCOMP_RET_TRAP, false},
    {"SCMP_ACT_LOG", SECCOMP_RET_LOG, false},
    {"SCMP_ACT_TRACE", SECCOMP_RET_TRACE, true},  // errnoRet is the tracer's message
};

struct CompareName {
  std::string_view name;
  Compare op;
};
constexpr CompareName kCompares[] = {
    {"SCMP_CMP_NE", Compare::ne}, {"SCMP_CMP_LT", Compare::lt}, {"SCMP_CMP_LE", Compare::le},
    {"SCMP_CMP_EQ", Compare::eq}, {"SCMP_CMP_GE", Compare::ge}, {"SCMP_CMP_GT", Compare::gt},
    {"SCMP_CMP_MASKED_EQ", Compare::masked_eq},
};

// libseccomp's architecture names, and what Docker calls the same machine
// in includes/excludes "arches".
struct ArchName {
  std::string_view scmp;
  std::string_view docker;
};
constexpr ArchName kArches[] = {
    {"SCMP_ARCH_X86", "x86"},          {"SCMP_ARCH_X86_64", "amd64"},
    {"SCMP_ARCH_X32", "x32"},          {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "arm64"},    {"SCMP_ARCH_LOONGARCH64", "loong64"},
    {"SCMP_ARCH_MIPS", "mips"},        {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"}, {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"}, {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},          {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},  {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},      {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"}, {"SCMP_ARCH_RISCV64", "riscv64"},
};

struct FlagName {
  std::string_view name;
  unsigned bit;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

// ---- reading JSON with the field's path in every error ----------------------

[[noreturn]] void bad(const std::string& where, const std::string& why) {
  throw core::Error("invalid seccomp profile: " + (where.empty() ? why : where + ": " + why));
}

// A missing key and an explicit null mean the same, as in Go's decoder.
const json* field(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string text(const json& j, const std::string& where) {
  if (!j.is_string()) bad(where, "expected a string, found " + j.dump());
  return j.get<std::string>();
}

uint64_t number(const json& j, const std::string& where, uint64_t max) {
  if (!j.is_number_unsigned() || j.get<uint64_t>() > max)
    bad(where, "expected a number from 0 to " + std::to_string(max) + ", found " + j.dump());
  return j.get<uint64_t>();
}

std::vector<std::string> strings(const json* j, const std::string& where) {
  if (!j) return {};
  if (!j->is_array()) bad(where, "expected a list of strings, found " + j->dump());
  std::vector<std::string> out;
  for (size_t i = 0; i < j->size(); ++i)
    out.push_back(text((*j)[i], where + "[" + std::to_string(i) + "]"));
  return out;
}

template <typename Table>
auto lookup(const Table& table, const std::string& name, const std::string& where,
            const char* what) {
  for (const auto& entry : table)
    if (entry.name == name) return entry;
  bad(where, "unknown " + std::string(what) + " \"" + name + "\"");
}

std::string arch(const json& j, const std::string& where) {
  std::string name = text(j, where);
  for (const auto& a : kArches)
    if (a.scmp == name) return name;
  bad(where, "unknown architecture \"" + name + "\"");
}

// ---- the parts of a profile --------------------------------------------------

// "syscalls[3]" + "action" → "syscalls[3].action"; a top-level key alone.
std::string path(const std::string& where, const char* key) {
  return where.empty() ? key : where + "." + key;
}

uint32_t action(const json& rule, const char* action_key, const char* errno_key,
                const std::string& where) {
  const json* a = field(rule, action_key);
  if (!a) bad(where, std::string("no ") + action_key);
  std::string name = text(*a, path(where, action_key));
  if (name == "SCMP_ACT_NOTIFY")
    bad(path(where, action_key), "SCMP_ACT_NOTIFY needs a notification agent, which skiff lacks");
  ActionName act = lookup(kActions, name, path(where, action_key), "action");
  if (!act.takes_errno) return act.ret;
  const json* e = field(rule, errno_key);
  // Docker answers EPERM when an ERRNO rule does not say which errno.
  uint64_t data = e ? number(*e, path(where, errno_key), SECCOMP_RET_DATA) : EPERM;
  return act.ret | static_cast<uint32_t>(data);
}

ArgCompare arg(const json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object, found " + j.dump());
  ArgCompare out;
  const json* index = field(j, "index");
  if (!index) bad(where, "no index");
  out.index = static_cast<unsigned>(number(*index, where + ".index", 5));
  if (const json* v = field(j, "value")) out.value = number(*v, where + ".value", UINT64_MAX);
  if (const json* v = field(j, "valueTwo"))
    out.value_two = number(*v, where + ".valueTwo", UINT64_MAX);
  const json* op = field(j, "op");
  if (!op) bad(where, "no op");
  out.op = lookup(kCompares, text(*op, where + ".op"), where + ".op", "operator").op;
  return out;
}

Condition condition(const json* j, const std::string& where) {
  Condition out;
  if (!j) return out;
  if (!j->is_object()) bad(where, "expected an object, found " + j->dump());
  out.caps = strings(field(*j, "caps"), where + ".caps");
  out.arches = strings(field(*j, "arches"), where + ".arches");
  if (const json* k = field(*j, "minKernel")) {
    std::string v = text(*k, where + ".minKernel");
    unsigned major = 0, minor = 0;
    char rest = 0;
    if (std::sscanf(v.c_str(), "%u.%u%c", &major, &minor, &rest) != 2 || (!major && !minor))
      bad(where + ".minKernel", "expected \"<major>.<minor>\", found \"" + v + "\"");
    out.min_kernel = KernelVersion{major, minor};
  }
  return out;
}

SyscallRule rule(const json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "expected an object, found " + j.dump());
  SyscallRule out;
  out.names = strings(field(j, "names"), where + ".names");
  if (const json* name = field(j, "name")) {  // the old, one-name form
    if (!out.names.empty()) bad(where, "both name and names are given: use one");
    out.names.push_back(text(*name, where + ".name"));
  }
  if (out.names.empty()) bad(where, "no names");
  out.action = action(j, "action", "errnoRet", where);
  if (const json* args = field(j, "args")) {
    if (!args->is_array()) bad(where + ".args", "expected a list, found " + args->dump());
    for (size_t i = 0; i < args->size(); ++i)
      out.args.push_back(arg((*args)[i], where + ".args[" + std::to_string(i) + "]"));
  }
  out.includes = condition(field(j, "includes"), where + ".includes");
  out.excludes = condition(field(j, "excludes"), where + ".excludes");
  if (const json* c = field(j, "comment")) out.comment = text(*c, where + ".comment");
  return out;
}

void architectures(const json& j, Profile& out) {
  if (const json* list = field(j, "architectures")) {
    if (!list->is_array()) bad("architectures", "expected a list, found " + list->dump());
    for (size_t i = 0; i < list->size(); ++i)
      out.architectures.push_back(arch((*list)[i], "architectures[" + std::to_string(i) + "]"));
  }
  const json* map = field(j, "archMap");
  if (!map) return;
  if (!map->is_array()) bad("archMap", "expected a list, found " + map->dump());
  if (!out.architectures.empty() && !map->empty())
    bad("", "both architectures and archMap are given: use one");
  for (size_t i = 0; i < map->size(); ++i) {
    std::string where = "archMap[" + std::to_string(i) + "]";
    const json& entry = (*map)[i];
    if (!entry.is_object() || !field(entry, "architecture")) bad(where, "no architecture");
    ArchGroup group{arch(*field(entry, "architecture"), where + ".architecture"), {}};
    const json* subs = field(entry, "subArchitectures");
    strings(subs, where + ".subArchitectures");  // a list of strings, or a clear error
    for (size_t k = 0; subs && k < subs->size(); ++k)
      group.sub_arches.push_back(
          arch((*subs)[k], where + ".subArchitectures[" + std::to_string(k) + "]"));
    out.arch_map.push_back(std::move(group));
  }
}

void flags(const json& j, Profile& out) {
  for (const auto& name : strings(field(j, "flags"), "flags"))
    out.flags |= lookup(kFlags, name, "flags", "flag").bit;
  if (const json* l = field(j, "listenerPath"); l && !text(*l, "listenerPath").empty())
    bad("listenerPath", "skiff has no seccomp notification agent");
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool included(const Condition& c, const std::vector<std::string>& caps, const Host& host) {
  if (!c.arches.empty() && !contains(c.arches, host.arch)) return false;
  for (const auto& cap : c.caps)
    if (!contains(caps, cap)) return false;
  return !c.min_kernel || host.kernel >= *c.min_kernel;
}

bool excluded(const Condition& c, const std::vector<std::string>& caps, const Host& host) {
  if (contains(c.arches, host.arch)) return true;
  for (const auto& cap : c.caps)
    if (contains(caps, cap)) return true;
  return c.min_kernel && host.kernel >= *c.min_kernel;
}

}  // namespace

Profile parse_profile(std::string_view text_in) {
  json j = json::parse(text_in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) bad("", "not JSON");
  if (!j.is_object()) bad("", "expected a JSON object, found " + j.dump().substr(0, 40));
  Profile out;
  const json* def = field(j, "defaultAction");
  const json* calls = field(j, "syscalls");
  // Docker's rule: no default action and no rules means no filter at all.
  if (!def && (!calls || calls->empty())) {
    out.confines = false;
    return out;
  }
  out.default_action = action(j, "defaultAction", "defaultErrnoRet", "");
  architectures(j, out);
  flags(j, out);
  if (calls && !calls->is_array()) bad("syscalls", "expected a list, found " + calls->dump());
  for (size_t i = 0; calls && i < calls->size(); ++i)
    out.syscalls.push_back(rule((*calls)[i], "syscalls[" + std::to_string(i) + "]"));
  return out;
}

KernelVersion parse_kernel_version(std::string_view release) {
  KernelVersion v;
  std::string r(release);
  if (std::sscanf(r.c_str(), "%u.%u", &v.major, &v.minor) != 2)
    throw core::Error("cannot read the kernel version from \"" + r + "\"");
  return v;
}

std::string_view native_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__i386__)
  return "x86";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__loongarch64)
  return "loong64";
#else
#error "11-security/seccomp_profile.cpp: add this machine to native_arch()"
#endif
}

Host this_host() {
  struct utsname u;
  ::uname(&u);  // cannot fail with a valid buffer
  return Host{std::string(native_arch()), parse_kernel_version(u.release)};
}

std::vector<const SyscallRule*> select_rules(const Profile& profile,
                                             const std::vector<std::string>& caps,
                                             const Host& host) {
  std::vector<const SyscallRule*> out;
  for (const auto& r : profile.syscalls)
    if (!excluded(r.excludes, caps, host) && included(r.includes, caps, host)) out.push_back(&r);
  return out;
}

std::vector<std::string> select_architectures(const Profile& profile, const Host& host) {
  if (!profile.architectures.empty()) return profile.architectures;
  auto native = std::find_if(std::begin(kArches), std::end(kArches),
                             [&](const ArchName& a) { return a.docker == host.arch; });
  if (native == std::end(kArches)) return {};
  for (const auto& group : profile.arch_map) {
    if (group.arch != native->scmp) continue;
    std::vector<std::string> out{group.arch};
    out.insert(out.end(), group.sub_arches.begin(), group.sub_arches.end());
    return out;
  }
  return {};
}

std::vector<std::string> capabilities_named(const Profile& profile) {
  std::vector<std::string> out;
  for (const auto& r : profile.syscalls) {
    out.insert(out.end(), r.includes.caps.begin(), r.includes.caps.end());
    out.insert(out.end(), r.excludes.caps.begin(), r.excludes.caps.end());
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

KernelVersion highest_min_kernel(const Profile& profile) {
  KernelVersion out;
  for (const auto& r : profile.syscalls)
    for (const auto* c : {&r.includes, &r.excludes})
      if (c->min_kernel) out = std::max(out, *c->min_kernel);
  return out;
}

std::string libseccomp_arch_name(std::string_view scmp_arch) {
  std::string out(scmp_arch.substr(std::string_view("SCMP_ARCH_").size()));
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace skiff::security
