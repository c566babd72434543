// tests/unit/test_seccomp_profile.cpp — Docker's seccomp profile format read
// into plain data, and Docker's includes/excludes resolved, without loading
// anything. No root. Lesson: 11-security.
#include <linux/seccomp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "11-security/capabilities.hpp"
#include "11-security/seccomp.hpp"
#include "core/error.hpp"

using namespace skiff::security;

namespace {

const Profile& docker_default() {
  static const Profile p = parse_profile(default_seccomp_profile());
  return p;
}

std::vector<std::string> with(std::vector<std::string> caps, const std::string& cap) {
  caps.push_back(cap);
  return caps;
}

// The selected rules that name CALL.
std::vector<const SyscallRule*> rules_for(const std::vector<const SyscallRule*>& rules,
                                          const std::string& call) {
  std::vector<const SyscallRule*> out;
  for (const auto* r : rules)
    if (std::find(r->names.begin(), r->names.end(), call) != r->names.end()) out.push_back(r);
  return out;
}

const Host kAmd64{"amd64", {6, 1}};

}  // namespace

TEST_CASE("seccomp profile: Docker's default reads as Docker wrote it", "[seccomp]") {
  const Profile& p = docker_default();
  CHECK(p.confines);
  CHECK(p.default_action == (SECCOMP_RET_ERRNO | EPERM));
  REQUIRE_FALSE(p.arch_map.empty());
  CHECK(p.arch_map[0].arch == "SCMP_ARCH_X86_64");
  CHECK(p.arch_map[0].sub_arches == std::vector<std::string>{"SCMP_ARCH_X86", "SCMP_ARCH_X32"});

  auto all = std::vector<const SyscallRule*>();
  for (const auto& r : p.syscalls) all.push_back(&r);
  std::set<uint64_t> personas;
  for (const auto* r : rules_for(all, "personality")) {
    REQUIRE(r->args.size() == 1);
    CHECK(r->args[0].op == Compare::eq);
    personas.insert(r->args[0].value);
  }
  CHECK(personas == std::set<uint64_t>{0, 8, 0x20000, 0x20008, 0xffffffff});

  auto clone3 = rules_for(all, "clone3");
  REQUIRE(clone3.size() == 2);  // allowed with CAP_SYS_ADMIN, ENOSYS without
  CHECK(clone3[1]->action == (SECCOMP_RET_ERRNO | ENOSYS));
  CHECK(clone3[1]->excludes.caps == std::vector<std::string>{"CAP_SYS_ADMIN"});
}

TEST_CASE("seccomp profile: default caps on amd64 get the clone guard and clone3's ENOSYS",
          "[seccomp]") {
  auto rules = select_rules(docker_default(), default_capabilities(), kAmd64);
  auto clone = rules_for(rules, "clone");
  REQUIRE(clone.size() == 1);
  REQUIRE(clone[0]->args.size() == 1);
  CHECK(clone[0]->args[0] == ArgCompare{0, 0x7E020000, 0, Compare::masked_eq});
  auto clone3 = rules_for(rules, "clone3");
  REQUIRE(clone3.size() == 1);
  CHECK(clone3[0]->action == (SECCOMP_RET_ERRNO | ENOSYS));
  CHECK(rules_for(rules, "mount").empty());
  CHECK(rules_for(rules, "unshare").empty());
  CHECK(rules_for(rules, "open_by_handle_at").empty());
  CHECK(rules_for(rules, "arch_prctl").size() == 1);  // amd64 is listed…
  CHECK(rules_for(rules, "riscv_flush_icache").empty());  // …riscv64 is not
  CHECK(rules_for(rules, "chroot").size() == 1);  // CAP_SYS_CHROOT is a default cap
  CHECK(rules_for(rules, "ptrace").size() == 1);  // minKernel 4.8
}

TEST_CASE("seccomp profile: CAP_SYS_ADMIN opens mount, unshare and clone", "[seccomp]") {
  auto caps = with(default_capabilities(), "CAP_SYS_ADMIN");
  auto rules = select_rules(docker_default(), caps, kAmd64);
  auto clone = rules_for(rules, "clone");
  REQUIRE(clone.size() == 1);
  CHECK(clone[0]->args.empty());
  auto clone3 = rules_for(rules, "clone3");
  REQUIRE(clone3.size() == 1);
  CHECK(clone3[0]->action == SECCOMP_RET_ALLOW);
  CHECK(rules_for(rules, "mount").size() == 1);
  CHECK(rules_for(rules, "unshare").size() == 1);
}

TEST_CASE("seccomp profile: arch and kernel conditions follow the host", "[seccomp]") {
  auto s390 = select_rules(docker_default(), default_capabilities(), Host{"s390x", {6, 1}});
  auto clone = rules_for(s390, "clone");
  REQUIRE(clone.size() == 1);
  CHECK(clone[0]->args[0].index == 1);  // s390 passes the flags second
  CHECK(rules_for(s390, "arch_prctl").empty());
  CHECK(rules_for(s390, "s390_runtime_instr").size() == 1);

  auto old = select_rules(docker_default(), default_capabilities(), Host{"amd64", {4, 7}});
  CHECK(rules_for(old, "ptrace").empty());
  CHECK(highest_min_kernel(docker_default()) == KernelVersion{4, 8});
}

TEST_CASE("seccomp profile: archMap gives the native arch and its sub-architectures",
          "[seccomp]") {
  const Profile& p = docker_default();
  CHECK(select_architectures(p, kAmd64) ==
        std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"});
  CHECK(select_architectures(p, Host{"arm64", {}}) ==
        std::vector<std::string>{"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"});
  CHECK(select_architectures(p, Host{"riscv64", {}}) ==
        std::vector<std::string>{"SCMP_ARCH_RISCV64"});
  Profile explicit_list = parse_profile(
      R"({"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86"]})");
  CHECK(select_architectures(explicit_list, kAmd64) == std::vector<std::string>{"SCMP_ARCH_X86"});
  CHECK(libseccomp_arch_name("SCMP_ARCH_X86_64") == "x86_64");
}

TEST_CASE("seccomp profile: the capabilities the default profile looks at", "[seccomp]") {
  auto named = capabilities_named(docker_default());
  CHECK(std::is_sorted(named.begin(), named.end()));
  for (const char* cap : {"CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_BPF"})
    CHECK(std::count(named.begin(), named.end(), cap) == 1);
  CHECK(std::count(named.begin(), named.end(), "CAP_CHOWN") == 0);
}

TEST_CASE("seccomp profile: custom profiles in Docker's forms", "[seccomp]") {
  Profile p = parse_profile(R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
      {"name": "getcwd", "action": "SCMP_ACT_ERRNO", "errnoRet": 75},
      {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
      {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
      {"names": ["clone"], "action": "SCMP_ACT_TRACE", "errnoRet": 7,
       "args": [{"index": 0, "value": 255, "valueTwo": 17, "op": "SCMP_CMP_MASKED_EQ"}]}
    ]})");
  REQUIRE(p.syscalls.size() == 4);
  CHECK(p.syscalls[0].names == std::vector<std::string>{"getcwd"});
  CHECK(p.syscalls[0].action == (SECCOMP_RET_ERRNO | 75));
  CHECK(p.syscalls[1].action == (SECCOMP_RET_ERRNO | EPERM));  // Docker's default errno
  CHECK(p.syscalls[2].action == SECCOMP_RET_KILL_PROCESS);
  CHECK(p.syscalls[3].action == (SECCOMP_RET_TRACE | 7));
  CHECK(p.syscalls[3].args[0] == ArgCompare{0, 255, 17, Compare::masked_eq});
  CHECK_FALSE(parse_profile("{}").confines);  // Docker: nothing said, nothing filtered
  CHECK(parse_profile(R"({"defaultAction": "SCMP_ACT_LOG", "flags": ["SECCOMP_FILTER_FLAG_LOG"]})")
            .flags == SECCOMP_FILTER_FLAG_LOG);
}

TEST_CASE("seccomp profile: bad profiles name what is wrong in one line", "[seccomp]") {
  auto fails = [](const std::string& text) {
    try {
      parse_profile(text);
    } catch (const skiff::core::Error& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const std::string allow = R"("defaultAction": "SCMP_ACT_ALLOW")";
  CHECK(fails("defaultAction: allow") == "invalid seccomp profile: not JSON");
  CHECK(fails("[1]") == "invalid seccomp profile: expected a JSON object, found [1]");
  CHECK(fails(R"({"defaultAction": "SCMP_ACT_MAYBE"})") ==
        "invalid seccomp profile: defaultAction: unknown action \"SCMP_ACT_MAYBE\"");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"names": ["getpid"]}]})") ==
        "invalid seccomp profile: syscalls[0]: no action");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"action": "SCMP_ACT_ERRNO"}]})") ==
        "invalid seccomp profile: syscalls[0]: no names");
  CHECK(fails("{" + allow +
              R"(, "syscalls": [{"names": "getpid", "action": "SCMP_ACT_ERRNO"}]})") ==
        "invalid seccomp profile: syscalls[0].names: expected a list of strings, found \"getpid\"");
  CHECK(fails("{" + allow +
              R"(, "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ERRNO"}]})") ==
        "invalid seccomp profile: syscalls[0]: both name and names are given: use one");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
              "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}]}]})") ==
        "invalid seccomp profile: syscalls[0].args[0].op: unknown operator \"SCMP_CMP_ABOUT\"");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
              "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]})") ==
        "invalid seccomp profile: syscalls[0].args[0].index: expected a number from 0 to 5, "
        "found 6");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
              "errnoRet": -1}]})") ==
        "invalid seccomp profile: syscalls[0].errnoRet: expected a number from 0 to 65535, "
        "found -1");
  CHECK(fails("{" + allow + R"(, "architectures": ["SCMP_ARCH_Z80"]})") ==
        "invalid seccomp profile: architectures[0]: unknown architecture \"SCMP_ARCH_Z80\"");
  CHECK(fails("{" + allow + R"(, "archMap": [{"architecture": "SCMP_ARCH_X86_64",
              "subArchitectures": ["SCMP_ARCH_Z80"]}]})") ==
        "invalid seccomp profile: archMap[0].subArchitectures[0]: unknown architecture "
        "\"SCMP_ARCH_Z80\"");
  CHECK(fails("{" + allow + R"(, "architectures": ["SCMP_ARCH_X86"],
              "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})") ==
        "invalid seccomp profile: both architectures and archMap are given: use one");
  CHECK(fails("{" + allow + R"(, "syscalls": [{"names": ["x"], "action": "SCMP_ACT_ERRNO",
              "includes": {"minKernel": "4"}}]})") ==
        "invalid seccomp profile: syscalls[0].includes.minKernel: expected \"<major>.<minor>\", "
        "found \"4\"");
  CHECK(fails(R"({"defaultAction": "SCMP_ACT_NOTIFY"})") ==
        "invalid seccomp profile: defaultAction: SCMP_ACT_NOTIFY needs a notification agent, "
        "which skiff lacks");
  CHECK(fails("{" + allow + R"(, "flags": ["SECCOMP_FILTER_FLAG_FAST"]})") ==
        "invalid seccomp profile: flags: unknown flag \"SECCOMP_FILTER_FLAG_FAST\"");
}

TEST_CASE("seccomp profile: kernel releases read as Docker reads them", "[seccomp]") {
  CHECK(parse_kernel_version("6.1.0-18-amd64") == KernelVersion{6, 1});
  CHECK(parse_kernel_version("3.12-1-amd64") == KernelVersion{3, 12});
  CHECK(parse_kernel_version("6.18.44-fc-v1098") == KernelVersion{6, 18});
  CHECK(KernelVersion{4, 10} > KernelVersion{4, 8});
  CHECK_THROWS_WITH(parse_kernel_version("linux"),
                    "cannot read the kernel version from \"linux\"");
}
