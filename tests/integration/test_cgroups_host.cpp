// tests/integration/test_cgroups_host.cpp — a real cgroup on this machine's
// hierarchy, v1 (this host, hybrid) or v2 (the micro-VM's kernels, tests/vm):
// the limits read back, a process joins, remove() cleans up.
// Lesson: lessons/04-cgroups; module: runtime/04-cgroups. Needs root.
//
// Every cgroup made here lives under skiff-test-<pid>/, and a guard removes
// it (and kills the child it holds) even when a check fails half-way.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "04-cgroups/cgroups.hpp"
#include "core/fs.hpp"

namespace {

namespace cg = skiff::cgroups;
namespace stdfs = std::filesystem;

void skip_unless_root() {
  if (::geteuid() != 0) {
    std::puts("SKIP: needs root");
    std::exit(4);
  }
}

void skip_unless_root_on(const cg::Hierarchy& h, cg::Version version) {
  skip_unless_root();
  if (h.version != version) {
    std::puts(version == cg::Version::v1 ? "SKIP: this test is for a v1 (or hybrid) cgroup host"
                                         : "SKIP: this test is for a pure cgroup v2 host");
    std::exit(4);
  }
}

// Owns the test's cgroup tree and the child inside it.
class Guard {
 public:
  Guard(cg::Hierarchy h, std::string leaf)
      : h_(std::move(h)), parent_("skiff-test-" + std::to_string(::getpid())),
        name_(parent_ + "/" + leaf) {}
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard() { cleanup(); }

  const std::string& name() const { return name_; }
  void hold(pid_t child) { child_ = child; }
  // The child is reaped: the guard must not kill a recycled pid.
  void release_child() { child_ = -1; }

  void cleanup() noexcept {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
      child_ = -1;
    }
    try {
      cg::Cgroup::open(h_, name_).remove();
      for (const auto& dir : parent_dirs()) ::rmdir(dir.c_str());
    } catch (...) {
    }
  }

  std::vector<stdfs::path> parent_dirs() const {
    std::vector<stdfs::path> out;
    for (const auto& rel : cg::plan_dirs(h_, parent_)) out.push_back(h_.root / rel);
    return out;
  }

 private:
  cg::Hierarchy h_;
  std::string parent_;
  std::string name_;
  pid_t child_ = -1;
};

pid_t fork_sleeper() {
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) ::pause();
  }
  REQUIRE(pid > 0);
  return pid;
}

std::string read(const stdfs::path& file) { return skiff::core::fs::read_file(file); }

}  // namespace

TEST_CASE("a v1 cgroup on the host takes limits, a process, and goes away", "[integration][cgroups][kernel]") {
  auto h = cg::detect();
  skip_unless_root_on(h, cg::Version::v1);
  Guard guard(h, "c1");
  const cg::Limits limits{.memory_bytes = 64 << 20, .nano_cpus = 500'000'000, .pids_limit = 20};
  auto c = cg::Cgroup::create(h, guard.name(), limits);

  auto leaf = [&](const char* controller) { return h.root / controller / guard.name(); };
  CHECK(read(leaf("memory") / "memory.limit_in_bytes") == "67108864\n");
  CHECK(read(leaf("cpu") / "cpu.cfs_quota_us") == "50000\n");
  CHECK(read(leaf("pids") / "pids.max") == "20\n");
  auto devices = read(leaf("devices") / "devices.list");
  CHECK(devices.find("c 1:3 rwm") != std::string::npos);
  CHECK(devices.find("a *:* rwm") == std::string::npos);

  pid_t child = fork_sleeper();
  guard.hold(child);
  c.add_process(child);
  auto membership = read("/proc/" + std::to_string(child) + "/cgroup");
  CHECK(membership.find(":memory:/" + guard.name() + "\n") != std::string::npos);
  CHECK(membership.find(":pids:/" + guard.name() + "\n") != std::string::npos);
  CHECK_FALSE(c.oom_killed());

  guard.cleanup();  // kills and reaps the child, removes every directory
  for (const auto& dir : c.dirs()) CHECK_FALSE(stdfs::exists(dir));
  for (const auto& dir : guard.parent_dirs()) CHECK_FALSE(stdfs::exists(dir));
}

TEST_CASE("a v2 cgroup on the host takes limits, a process, and goes away", "[integration][cgroups][kernel]") {
  auto h = cg::detect();
  skip_unless_root_on(h, cg::Version::v2);
  Guard guard(h, "c1");
  const cg::Limits limits{.memory_bytes = 64 << 20, .nano_cpus = 500'000'000, .pids_limit = 20};
  auto c = cg::Cgroup::create(h, guard.name(), limits);

  // One folder for every controller, enabled from the root down.
  auto leaf = h.root / guard.name();
  CHECK(read(leaf / "memory.max") == "67108864\n");
  CHECK(read(leaf / "cpu.max") == "50000 100000\n");
  CHECK(read(leaf / "pids.max") == "20\n");
  auto enabled = read(h.root / ("skiff-test-" + std::to_string(::getpid())) / "cgroup.subtree_control");
  for (const char* controller : {"memory", "pids", "cpu"})
    CHECK(enabled.find(controller) != std::string::npos);

  pid_t child = fork_sleeper();
  guard.hold(child);
  c.add_process(child);
  CHECK(read("/proc/" + std::to_string(child) + "/cgroup") == "0::/" + guard.name() + "\n");
  CHECK_FALSE(c.oom_killed());

  guard.cleanup();
  for (const auto& dir : c.dirs()) CHECK_FALSE(stdfs::exists(dir));
  for (const auto& dir : guard.parent_dirs()) CHECK_FALSE(stdfs::exists(dir));
}

TEST_CASE("remove() kills what is left in a host cgroup", "[integration][cgroups][kernel]") {
  auto h = cg::detect();
  skip_unless_root();
  Guard guard(h, "c2");
  auto c = cg::Cgroup::create(h, guard.name(), {});
  pid_t child = fork_sleeper();
  guard.hold(child);
  c.add_process(child);

  c.remove();
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  guard.release_child();
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
  for (const auto& dir : c.dirs()) CHECK_FALSE(stdfs::exists(dir));
}
