// labs/11-security/grader/checks.cpp — the checks of lab 11 (a seccomp filter
// written by hand).
//
// Each check runs `sandbox [--allow …] PROBE OP …`: the student's filter is
// installed, then the probe (grader/probe.c, static) tries one kind of
// system call and prints one line per attempt, "WHAT: ok" or "WHAT: ENAME",
// then "done". A filter that kills the probe shows as exit code 159
// (128 + SIGSYS) and the missing lines. Where a check must show that what it
// tries is real — an i386 unlink really deletes, clone really makes a
// namespace here — it runs the probe first without the student's filter.
// Every run starts in a fresh folder of the check's, which is removed after.
// A check's points are in its tag; labs/README.md says how they add up.
#include <catch2/catch.hpp>

#include <signal.h>

#include <algorithm>
#include <map>
#include <random>

#include "grading.hpp"

namespace {

using namespace std::chrono_literals;

const std::string kProgram = LAB_PROGRAM;
const std::string kNoArchCheck = LAB_REFERENCE_NO_ARCH_CHECK;  // mutants/no_arch_check
const std::string kProbe = LAB_HELPER_PROBE;
constexpr int kKilled = 128 + SIGSYS;

struct Stage {
  lab::TempDir dir{"lab11"};
  std::string token = lab::random_token(8);

  // PROGRAM [OPTIONS] PROBE ARGS...; PROGRAM empty: the probe alone.
  lab::RunResult probe(const std::vector<std::string>& args, const std::vector<std::string>& options = {},
                       const std::string& program = kProgram) const {
    std::vector<std::string> argv;
    if (!program.empty()) argv.push_back(program);
    argv.insert(argv.end(), options.begin(), options.end());
    argv.push_back(kProbe);
    argv.insert(argv.end(), args.begin(), args.end());
    return lab::run(argv, lab::RunOptions{.cwd = dir.path(), .timeout = 5s});
  }
};

// "WHAT: RESULT" lines of the probe, by WHAT.
std::map<std::string, std::string> results(const lab::RunResult& r) {
  std::map<std::string, std::string> out;
  for (const auto& line : lab::lines(r.out))
    if (const auto colon = line.rfind(": "); colon != std::string::npos)
      out[line.substr(0, colon)] = line.substr(colon + 2);
  return out;
}

std::string result_of(const lab::RunResult& r, const std::string& what) {
  const auto all = results(r);
  const auto it = all.find(what);
  return it == all.end() ? "(no answer: the probe never got there)" : it->second;
}

// Ran to its end: every attempt answered, none killed it.
bool finished(const lab::RunResult& r) {
  const auto l = lab::lines(r.out);
  return r.exit_code == 0 && !l.empty() && l.back() == "done";
}

std::string kill_hint(const lab::RunResult& r) {
  if (r.exit_code == kKilled)
    return "the probe was killed by SIGSYS: your filter answered KILL to a call it should not";
  if (r.exit_code == 126)
    return "sandbox could not run the probe at all: is execve (or the start-up of a program) refused?";
  if (r.exit_code == 125)
    return "sandbox refused your program before running anything (its message says why)";
  return "the probe ended by itself (exit code " + std::to_string(r.exit_code) + ")";
}

void expect_answer(const lab::RunResult& r, const std::string& what, const std::string& want) {
  INFO("expected `" << what << ": " << want << "`");
  CHECK(result_of(r, what) == want);
}

void expect_killed(const lab::RunResult& r, const std::string& what) {
  INFO("expected the filter to kill the whole process (exit code " << kKilled << " = 128 + SIGSYS) at its "
                                                                   << what << ", before it could answer");
  CHECK(r.exit_code == kKilled);
  CHECK(result_of(r, what).rfind("(no answer", 0) == 0);
}

// Calls that are harmless with every argument 0 (the probe passes zeros) and
// that kAllowed does not hold: sched_yield, alarm(0), getuid, getgid,
// geteuid, getegid, getppid, getpgrp, getpgid(0), getsid(0),
// sched_getscheduler(0). (Not times(): what it returns may look like an error.)
const std::vector<int> kHarmless = {24, 37, 102, 104, 107, 108, 110, 111, 121, 124, 145};

std::string joined(const std::vector<int>& numbers, const char* sep) {
  std::string s;
  for (int n : numbers) s += (s.empty() ? "" : sep) + std::to_string(n);
  return s;
}

}  // namespace

TEST_CASE("the probe runs: what a program needs is allowed", "[points=10]") {
  const Stage s;
  const auto r = s.probe({"hello", s.token});
  INFO(r.describe());
  INFO(kill_hint(r));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "hello " + s.token + "\ndone\n");
}

TEST_CASE("a call is allowed only when listed: first, middle, last of --allow; others refused",
          "[points=10]") {
  const Stage s;
  // Three listed and three not, drawn afresh each time, the list in random order.
  std::vector<int> pool = kHarmless;
  std::shuffle(pool.begin(), pool.end(), lab::generator());
  const std::vector<int> listed(pool.begin(), pool.begin() + 3), unlisted(pool.begin() + 3, pool.begin() + 6);
  // The probe tries them in the same shuffled order, then getpid (from kAllowed).
  std::vector<std::string> args = {"calls"};
  for (auto it = pool.begin(); it != pool.begin() + 6; ++it) args.push_back(std::to_string(*it));
  args.push_back("39");
  const auto r = s.probe(args, {"--allow", joined(listed, ",")});
  INFO("sandbox --allow " << joined(listed, ",") << " probe calls …: listed (after kAllowed) "
                          << joined(listed, " ") << ", not listed " << joined(unlisted, " "));
  INFO(r.describe());
  INFO(kill_hint(r));
  REQUIRE(finished(r));
  for (int n : listed) expect_answer(r, "syscall " + std::to_string(n), "ok");
  for (int n : unlisted) expect_answer(r, "syscall " + std::to_string(n), "EPERM");
  expect_answer(r, "syscall 39", "ok");
}

TEST_CASE("any other call fails with EPERM, and the program carries on", "[points=15]") {
  const Stage s;
  const auto r = s.probe({"refused", s.dir.path().string()});
  INFO(r.describe());
  INFO(kill_hint(r));
  REQUIRE(finished(r));
  expect_answer(r, "mkdirat", "EPERM");
  expect_answer(r, "socket", "EPERM");
  expect_answer(r, "kill", "EPERM");
  const bool made = lab::stdfs::exists(s.dir / "made-by-probe");
  INFO("the mkdirat must not have happened (an ERRNO action with errno 0 \"succeeds\" without doing it; "
       "ALLOW does it)");
  CHECK_FALSE(made);
}

TEST_CASE("an i386 call (int 0x80) kills the process: unlink, number 10 like mprotect, fails",
          "[points=15]") {
  const Stage s;
  const auto victim = s.dir / ("victim-" + s.token);
  // First the hole is real: a filter that allows number 10 (mprotect) but
  // does not look at arch lets i386's unlink (also number 10) through.
  {
    lab::write_file(victim, s.token);
    const auto ref = s.probe({"i386-unlink", victim.string()}, {}, kNoArchCheck);
    INFO("the i386 unlink against a filter without the arch check (the lab's reference) —\n" << ref.describe());
    INFO("(exit code 139, SIGSEGV, would mean a kernel without the i386 ABI, CONFIG_IA32_EMULATION: "
         "the check cannot be made there)");
    REQUIRE(result_of(ref, "i386 unlink") == "ok");
    REQUIRE(!lab::stdfs::exists(victim));
  }

  lab::write_file(victim, s.token);
  const auto r = s.probe({"i386-unlink", victim.string()});
  INFO("the same against your filter —\n" << r.describe());
  expect_killed(r, "i386 unlink");
  const bool still_there = lab::stdfs::exists(victim);
  INFO(victim.string() << " must still exist");
  CHECK(still_there);
}

TEST_CASE("an x32 call (number | 0x40000000) kills the process", "[points=10]") {
  const Stage s;
  for (const char* nr : {"39", "102"}) {
    const auto r = s.probe({"x32", nr});
    INFO("probe x32 " << nr << " makes syscall(0x40000000 | " << nr << ") —\n" << r.describe());
    expect_killed(r, "x32 call");
  }
}

TEST_CASE("a foreign call from a second thread kills the whole process", "[points=5]") {
  const Stage s;
  const auto r = s.probe({"thread-i386"});
  INFO("probe thread-i386: a second thread makes an i386 getpid, the first waits for it —\n" << r.describe());
  INFO("\"main thread: still running\" means only the calling thread died (SECCOMP_RET_KILL_THREAD, "
       "the old SECCOMP_RET_KILL)");
  expect_killed(r, "i386 getpid from a thread");
  CHECK(result_of(r, "main thread") == "(no answer: the probe never got there)");
}

TEST_CASE("fork and threads still work", "[points=10]") {
  const Stage s;
  for (const char* op : {"fork", "thread"}) {
    const auto r = s.probe({op});
    INFO("probe " << op << " —\n" << r.describe());
    INFO(kill_hint(r));
    INFO("pthread_create tries clone3 first and falls back to clone only when clone3 fails with ENOSYS");
    CHECK(finished(r));
    expect_answer(r, op, "ok");
  }
}

TEST_CASE("clone with any namespace flag fails with EPERM", "[points=15]") {
  const Stage s;
  const std::vector<std::string> flags = {"CLONE_NEWNS",  "CLONE_NEWUTS", "CLONE_NEWIPC",   "CLONE_NEWUSER",
                                          "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWCGROUP"};
  // First the probe alone: as root, each of these clones makes a namespace.
  {
    const auto ref = s.probe({"clone-ns"}, {}, "");
    INFO("the probe without any filter —\n" << ref.describe());
    for (const auto& f : flags) REQUIRE(result_of(ref, "clone " + f) == "ok");
  }

  const auto r = s.probe({"clone-ns"});
  INFO("the probe in your filter —\n" << r.describe());
  INFO(kill_hint(r));
  REQUIRE(finished(r));
  for (const auto& f : flags) expect_answer(r, "clone " + f, "EPERM");
}

TEST_CASE("clone3 fails with ENOSYS, unshare with EPERM", "[points=10]") {
  const Stage s;
  const auto r3 = s.probe({"clone3-ns"});
  INFO("probe clone3-ns —\n" << r3.describe());
  INFO(kill_hint(r3));
  CHECK(finished(r3));
  expect_answer(r3, "clone3", "ENOSYS");
  expect_answer(r3, "clone3 CLONE_NEWUSER", "ENOSYS");
  const auto ru = s.probe({"unshare"});
  INFO("probe unshare —\n" << ru.describe());
  INFO(kill_hint(ru));
  CHECK(finished(ru));
  expect_answer(ru, "unshare CLONE_NEWUSER", "EPERM");
  expect_answer(ru, "unshare CLONE_NEWNS", "EPERM");
}
