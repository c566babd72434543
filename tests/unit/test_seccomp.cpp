// tests/unit/test_seccomp.cpp — filters loaded for real: a forked child sets
// no_new_privs (which needs no privilege), loads the filter, makes system
// calls and reports each errno to the parent. No root.
//
// The probes pass arguments that the kernel itself answers with an errno
// other than EPERM (ENOENT for a missing mount point, EOPNOTSUPP for an
// unknown keyctl operation, EINVAL for a bad kexec flag…), and a copy of
// the default profile with a different defaultErrnoRet shows the refusal
// changing with it: the EPERM seen comes from the filter, not the kernel.
// Lesson: 11-security.
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "11-security/capabilities.hpp"
#include "11-security/seccomp.hpp"
#include "core/error.hpp"

using namespace skiff::security;

namespace {

// A probe makes one call and returns what the call returned (-1 with errno
// set on failure).
using Probe = std::function<long()>;
using Probes = std::vector<std::pair<std::string, Probe>>;
// Each probe's errno, 0 when its call worked.
using Report = std::map<std::string, int>;

void write_all(int fd, const std::string& s) {
  for (size_t done = 0; done < s.size();) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Forks; the child runs BODY and writes what it returns to the parent.
// Returns {wait status, text}.
std::pair<int, std::string> in_child(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    rlimit no_core{0, 0};  // a probe killed by SIGSYS must not leave a core file
    ::setrlimit(RLIMIT_CORE, &no_core);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = std::string("exception ") + e.what() + "\n";
    }
    write_all(fds[1], out);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {status, text};
}

Report run_filtered(const Filter& filter, const Probes& probes) {
  auto [status, text] = in_child([&] {
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    load(filter);
    std::string out;
    for (const auto& [name, probe] : probes) {
      errno = 0;
      long rc = probe();
      out += name + " " + std::to_string(rc < 0 ? errno : 0) + "\n";
    }
    return out;
  });
  INFO(text);
  REQUIRE(WIFEXITED(status));
  REQUIRE(text.rfind("exception", 0) != 0);
  Report report;
  std::istringstream in(text);
  for (std::string name; in >> name;) in >> report[name];
  REQUIRE(report.size() == probes.size());
  return report;
}

// A call that makes a child process: the child leaves at once, the probe
// waits for it and fails with ECHILD unless it exited with 7.
long reaped(long pid) {
  if (pid == 0) ::_exit(7);
  if (pid < 0) return pid;
  int status = 0;
  ::waitpid(static_cast<pid_t>(pid), &status, __WALL);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 7) return 0;
  errno = ECHILD;
  return -1;
}

long opened(int fd) {
  if (fd >= 0) ::close(fd);
  return fd;
}

void* thread_body(void*) { return nullptr; }

const char* const kNoSuchDir = "/skiff-seccomp-test-no-such-dir";

// Calls the default profile refuses; the kernel alone would answer each
// with something other than EPERM.
Probes refused_calls() {
  return {
      {"keyctl", [] { return ::syscall(SYS_keyctl, 0x7fff /*no such operation*/); }},
      {"mount", [] { return long(::mount("none", kNoSuchDir, "tmpfs", 0, nullptr)); }},
      {"kexec_load", [] { return ::syscall(SYS_kexec_load, 0, 0, nullptr, 0xffff0000UL); }},
      {"unshare_newuser", [] { return long(::unshare(CLONE_NEWUSER)); }},
      {"unshare_nothing", [] { return long(::unshare(0)); }},
      {"clone_newns",
       [] { return reaped(::syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0)); }},
      {"socket_vsock", [] { return opened(::socket(40 /*AF_VSOCK*/, SOCK_STREAM, 0)); }},
      {"socket_alg", [] { return opened(::socket(38 /*AF_ALG*/, SOCK_SEQPACKET, 0)); }},
      {"personality_0x1234", [] { return ::syscall(SYS_personality, 0x1234UL); }},
#if defined(__x86_64__)
      // The same keyctl by its x32 number: the filter covers that ABI too.
      {"keyctl_x32", [] { return ::syscall(0x40000000 | SYS_keyctl, 0x7fff); }},
#endif
  };
}

// Calls every container makes.
Probes allowed_calls() {
  return {
      {"getpid", [] { return long(::getpid()); }},
      {"open_read",
       [] {
         int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
         if (fd < 0) return -1L;
         char buf[64];
         long n = ::read(fd, buf, sizeof buf);
         ::close(fd);
         return n;
       }},
      {"fork", [] { return reaped(::fork()); }},
      {"clone_plain", [] { return reaped(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0)); }},
      // glibc starts threads with clone3 and falls back to clone on ENOSYS.
      {"pthread_create",
       [] {
         pthread_t t;
         errno = ::pthread_create(&t, nullptr, thread_body, nullptr);
         if (errno) return -1L;
         return long(::pthread_join(t, nullptr));
       }},
      {"personality_8",
       [] {
         long old = ::syscall(SYS_personality, 8UL);
         if (old >= 0) ::syscall(SYS_personality, static_cast<unsigned long>(old));
         return old;
       }},
      {"personality_query", [] { return ::syscall(SYS_personality, 0xffffffffUL); }},
      {"socket_unix", [] { return opened(::socket(AF_UNIX, SOCK_STREAM, 0)); }},
      {"socket_inet", [] { return opened(::socket(AF_INET, SOCK_DGRAM, 0)); }},
      {"chroot", [] { return long(::chroot(kNoSuchDir)); }},  // CAP_SYS_CHROOT: ENOENT
#if defined(__x86_64__)
      {"getpid_x32", [] { return ::syscall(0x40000000 | SYS_getpid); }},
#endif
  };
}

// Docker's default profile, refusing with ERRNO instead of EPERM.
std::string default_profile_refusing_with(int err) {
  auto j = nlohmann::json::parse(default_seccomp_profile());
  j["defaultErrnoRet"] = err;
  return j.dump();
}

std::vector<std::string> caps_plus(const std::string& cap) {
  auto caps = default_capabilities();
  caps.push_back(cap);
  return caps;
}

std::vector<std::string> caps_minus(const std::string& cap) {
  auto caps = default_capabilities();
  caps.erase(std::remove(caps.begin(), caps.end(), cap), caps.end());
  return caps;
}

constexpr int kMarker = 200;  // an errno no kernel call returns

}  // namespace

TEST_CASE("seccomp: the default profile refuses the dangerous calls with EPERM", "[seccomp]") {
  Filter f = filter_for("", default_capabilities());
  REQUIRE(f.is_built_in());
  Report r = run_filtered(f, refused_calls());
  for (const auto& [name, err] : r) {
    INFO(name);
    CHECK(err == EPERM);
  }
}

TEST_CASE("seccomp: those EPERMs are the filter's: they follow defaultErrnoRet", "[seccomp]") {
  Filter f = filter_for(default_profile_refusing_with(kMarker), default_capabilities());
  Report r = run_filtered(f, refused_calls());
  for (const auto& [name, err] : r) {
    INFO(name);
    CHECK(err == kMarker);
  }
}

TEST_CASE("seccomp: without a filter the kernel answers those calls otherwise", "[seccomp]") {
  Report r = run_filtered(Filter(), refused_calls());
  CHECK(r["keyctl"] == EOPNOTSUPP);
  CHECK(r["mount"] == ENOENT);
  CHECK(r["unshare_nothing"] == 0);
  CHECK(r["personality_0x1234"] == 0);
  CHECK(r["socket_vsock"] != EPERM);  // a socket, or EAFNOSUPPORT without the module
  CHECK(r["socket_alg"] != EPERM);
#if defined(__x86_64__)
  CHECK((r["keyctl_x32"] == ENOSYS || r["keyctl_x32"] == EOPNOTSUPP));
#endif
  // Only root passes the kernel's own capability checks.
  if (::geteuid() == 0) {
    CHECK((r["kexec_load"] == EINVAL || r["kexec_load"] == ENOSYS));  // ENOSYS: no CONFIG_KEXEC
    CHECK(r["clone_newns"] == 0);
  }
}

TEST_CASE("seccomp: the default profile lets ordinary calls through", "[seccomp]") {
  Report r = run_filtered(filter_for("", default_capabilities()), allowed_calls());
  CHECK(r["getpid"] == 0);
  CHECK(r["open_read"] == 0);
  CHECK(r["fork"] == 0);
  CHECK(r["clone_plain"] == 0);
  CHECK(r["pthread_create"] == 0);
  CHECK(r["personality_8"] == 0);
  CHECK(r["personality_query"] == 0);
  CHECK(r["socket_unix"] == 0);
  CHECK(r["socket_inet"] == 0);
  CHECK(r["chroot"] == ENOENT);
#if defined(__x86_64__)
  CHECK(r["getpid_x32"] != EPERM);  // allowed: ENOSYS where the kernel lacks x32
#endif
}

TEST_CASE("seccomp: clone3 fails with ENOSYS, so that glibc falls back to clone", "[seccomp]") {
  Probes clone3 = {{"clone3", [] { return ::syscall(SYS_clone3, nullptr, 0); }}};
  CHECK(run_filtered(filter_for("", default_capabilities()), clone3)["clone3"] == ENOSYS);
  CHECK(run_filtered(Filter(), clone3)["clone3"] == EINVAL);  // the kernel's own answer
  // With CAP_SYS_ADMIN the filter lets it through to the kernel.
  CHECK(run_filtered(filter_for("", caps_plus("CAP_SYS_ADMIN")), clone3)["clone3"] == EINVAL);
}

TEST_CASE("seccomp: with CAP_SYS_ADMIN the filter no longer refuses unshare and mount",
          "[seccomp]") {
  Filter f = filter_for("", caps_plus("CAP_SYS_ADMIN"));
  CHECK_FALSE(f.is_built_in());  // compiled for this capability set
  Report r = run_filtered(f, refused_calls());
  CHECK(r["unshare_nothing"] == 0);  // unshare(0): a flag the kernel always accepts
  CHECK(r["mount"] == ENOENT);       // the kernel's answer for a missing mount point
  CHECK(r["keyctl"] == EPERM);       // what CAP_SYS_ADMIN does not open stays shut
  CHECK(r["kexec_load"] == EPERM);
}

TEST_CASE("seccomp: without CAP_SYS_CHROOT the filter refuses chroot", "[seccomp]") {
  Probes chroot = {{"chroot", [] { return long(::chroot(kNoSuchDir)); }}};
  Filter f = filter_for("", caps_minus("CAP_SYS_CHROOT"));
  CHECK_FALSE(f.is_built_in());
  CHECK(run_filtered(f, chroot)["chroot"] == EPERM);
}

TEST_CASE("seccomp: the built-in program serves every capability set it fits", "[seccomp]") {
  // CAP_CHOWN is named by no rule of the profile: dropping it changes nothing.
  CHECK(filter_for("", caps_minus("CAP_CHOWN")).is_built_in());
  CHECK(filter_for("", default_capabilities()).is_built_in());
  CHECK_FALSE(filter_for("", caps_plus("CAP_SYS_PTRACE")).is_built_in());
  CHECK(filter_for("unconfined", default_capabilities()).empty());
}

TEST_CASE("seccomp: the built-in program is byte for byte what libseccomp compiles now",
          "[seccomp]") {
  Profile p = parse_profile(default_seccomp_profile());
  Host host = this_host();
  REQUIRE(host.kernel >= highest_min_kernel(p));
  Program fresh = compile(p, default_capabilities(), host);
  auto built_in = Filter::built_in().program();
  REQUIRE(fresh.size() == built_in.size());
  CHECK(std::memcmp(fresh.data(), built_in.data(), fresh.size() * sizeof(sock_filter)) == 0);
}

TEST_CASE("seccomp: a custom profile in Docker's format does what it says", "[seccomp]") {
  const std::string profile = R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
      {"names": ["getcwd"], "action": "SCMP_ACT_ERRNO", "errnoRet": 75},
      {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]},
      {"names": ["no_such_call_in_any_kernel", "getppid"], "action": "SCMP_ACT_ERRNO",
       "errnoRet": 3, "includes": {"caps": ["CAP_SYS_ADMIN"]}}
    ]})";
  Probes probes = {
      {"getcwd", [] { char b[256]; return long(::syscall(SYS_getcwd, b, sizeof b)); }},
      {"socket_unix", [] { return opened(::socket(AF_UNIX, SOCK_STREAM, 0)); }},
      {"socket_inet", [] { return opened(::socket(AF_INET, SOCK_DGRAM, 0)); }},
      {"getppid", [] { return long(::syscall(SYS_getppid)); }},
      {"keyctl", [] { return ::syscall(SYS_keyctl, 0x7fff); }},
  };
  Report r = run_filtered(filter_for(profile, default_capabilities()), probes);
  CHECK(r["getcwd"] == 75);
  CHECK(r["socket_unix"] == 97);  // arg0 == AF_UNIX
  CHECK(r["socket_inet"] == 0);
  CHECK(r["getppid"] == 0);             // that rule is for CAP_SYS_ADMIN only
  CHECK(r["keyctl"] == EOPNOTSUPP);     // allowed by default: the kernel answers
  CHECK(run_filtered(filter_for(profile, caps_plus("CAP_SYS_ADMIN")), probes)["getppid"] == 3);
}

TEST_CASE("seccomp: KILL_PROCESS and TRAP end the process with SIGSYS", "[seccomp]") {
  for (const char* action : {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"}) {
    INFO(action);
    std::string profile = std::string(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)") +
                          R"({"names": ["getppid"], "action": ")" + action + R"("}]})";
    Filter f = filter_for(profile, default_capabilities());
    auto [status, text] = in_child([&] {
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      load(f);
      ::syscall(SYS_getppid);
      return std::string("survived");
    });
    CHECK(text.empty());
    REQUIRE(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGSYS);
  }
}

TEST_CASE("seccomp: unconfined loads nothing", "[seccomp]") {
  Filter f = filter_for("unconfined", default_capabilities());
  CHECK(f.empty());
  Report r = run_filtered(f, {{"keyctl", [] { return ::syscall(SYS_keyctl, 0x7fff); }}});
  CHECK(r["keyctl"] == EOPNOTSUPP);
  CHECK(filter_for(R"({"syscalls": []})", default_capabilities()).empty());
}

TEST_CASE("seccomp: loading needs no_new_privs or CAP_SYS_ADMIN", "[seccomp]") {
  Filter f = filter_for("", default_capabilities());
  auto [status, text] = in_child([&] {
    if (::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1) return std::string("nnp already set");
    // Root loses every capability when it becomes another user.
    if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) return std::string("setresuid");
    try {
      load(f);
    } catch (const skiff::core::SystemError& e) {
      return std::to_string(e.err()) + " " + e.what();
    }
    return std::string("loaded");
  });
  REQUIRE(WIFEXITED(status));
  if (text == "nnp already set") {
    WARN("this test runs with no_new_privs already set: nothing to show");
    return;
  }
  CHECK_THAT(text,
             Catch::StartsWith(std::to_string(EACCES) + " seccomp(SECCOMP_SET_MODE_FILTER, 0, "));
  CHECK_THAT(text, Catch::Contains("built in"));
}

TEST_CASE("seccomp: run checks a custom profile before anything is made", "[seccomp]") {
  const auto& caps = default_capabilities();
  CHECK_NOTHROW(validate_seccomp_profile("", caps));
  CHECK_NOTHROW(validate_seccomp_profile("unconfined", caps));
  CHECK_NOTHROW(validate_seccomp_profile(R"({"defaultAction": "SCMP_ACT_LOG"})", caps));
  CHECK_THROWS_WITH(validate_seccomp_profile("{", caps), "invalid seccomp profile: not JSON");
  CHECK_THROWS_WITH(
      validate_seccomp_profile(R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{}]})", caps),
      "invalid seccomp profile: syscalls[0]: no names");
}
