// tests/integration/test_limits.cpp — -m, --cpus and --pids-limit as a user
// meets them: the OOM kill and its exit code, a throttled busy loop, a fork
// that fails; and the cgroup files behind them, read from the host.
// Lesson: 04-cgroups. Needs root; reads v1 files on a v1 or hybrid host and
// v2 files on a pure v2 one (the micro-VM's kernels, tests/vm).
#include <catch2/catch.hpp>
#include <filesystem>

#include "harness.hpp"

using it::contains;
using it::trim;

namespace {

const std::filesystem::path kCg = "/sys/fs/cgroup";

std::string ps_line(it::Sandbox& box, const std::string& name) {
  for (const auto& line : it::lines(box.run({"ps", "-a"}).out))
    if (contains(line, name)) return line;
  return "";
}

}  // namespace

TEST_CASE("run -m: a container that outgrows its memory is OOM-killed (137)", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("oom");
  // busybox tail buffers an endless line forever: memory grows until the kill.
  auto r = box.run({"run", "--name", name, "-m", "16m", "busybox", "tail", "/dev/zero"});
  CHECK(r.code == 137);
  CHECK(contains(ps_line(box, name), "Exited (137)"));
  auto j = box.inspect(name);
  CHECK(j["State"]["OOMKilled"] == true);
  CHECK(j["State"]["ExitCode"] == 137);
  CHECK(j["HostConfig"]["Memory"] == 16 * 1024 * 1024);
  CHECK(it::cgroup_dirs(j["Id"]).empty());

  // One that stays within the limit is not reported as OOM-killed.
  auto fine = box.run({"run", "--name", name + "-ok", "-m", "16m", "busybox", "true"});
  CHECK(fine.code == 0);
  CHECK(box.inspect(name + "-ok")["State"]["OOMKilled"] == false);
}

TEST_CASE("run -m writes the memory limit of the container's cgroup (v1 memory.limit_in_bytes, v2 memory.max)", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("mem");
  auto bg = box.spawn({"run", "--name", name, "-m", "32m", "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  auto file = it::cgroup_file(id, "memory", "memory.limit_in_bytes", "memory.max");
  CHECK(trim(it::read_file(file)) == std::to_string(32 << 20));
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);
  CHECK_FALSE(std::filesystem::exists(file.parent_path()));
}

TEST_CASE("run --cpus: the quota is written and a busy loop gets only its share", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("cpu");
  auto bg = box.spawn({"run", "--name", name, "--cpus", "0.5", "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  if (it::cgroup_v2()) {
    CHECK(trim(it::read_file(it::cgroup_file(id, "cpu", "", "cpu.max"))) == "50000 100000");
  } else {
    CHECK(trim(it::read_file(it::cgroup_file(id, "cpu", "cpu.cfs_period_us", ""))) == "100000");
    CHECK(trim(it::read_file(it::cgroup_file(id, "cpu", "cpu.cfs_quota_us", ""))) == "50000");
  }
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);

  // Two seconds of spinning at 0.2 CPU: about 0.4 s of CPU time. Unlimited,
  // it would be about 2 s. The time counted is skiff's and everything it
  // reaped: the monitor, the container's PID 1 and the loop.
  auto r = box.run({"run", "--cpus", "0.2", "busybox", "sh", "-c",
                    "timeout 2 sh -c 'while :; do :; done'; true"});
  INFO("cpu " << r.cpu_seconds << " s over " << r.wall_seconds << " s; " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.wall_seconds >= 1.9);
  CHECK(r.cpu_seconds >= 0.1 * r.wall_seconds);  // the loop did run
  CHECK(r.cpu_seconds <= 0.35 * r.wall_seconds);
}

TEST_CASE("run --pids-limit: forks beyond the limit fail, the host is unharmed", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("pids");
  auto bg = box.spawn({"run", "--name", name, "--pids-limit", "10", "busybox", "sh", "-c",
                       "sleep 30 & sleep 30 & wait"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  CHECK(trim(it::read_file(it::cgroup_file(id, "pids", "pids.max", "pids.max"))) == "10");
  CHECK(std::stoi(it::read_file(it::cgroup_file(id, "pids", "pids.current", "pids.current"))) >= 1);
  CHECK(box.inspect(name)["HostConfig"]["PidsLimit"] == 10);
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);

  auto r = box.run({"run", "--pids-limit", "10", "busybox", "sh", "-c",
                    "for i in $(seq 50); do sleep 5 & done; wait"});
  INFO(r.err);
  CHECK(r.code != 0);
  CHECK((contains(r.err, "can't fork") || contains(r.err, "Resource temporarily unavailable")));
  CHECK(r.wall_seconds < 4);  // it failed; it did not sleep with 50 children
  // The host still forks, and skiff still works.
  auto ps = box.run({"ps", "-a"});
  CHECK(ps.code == 0);
  CHECK(it::lines(ps.out).size() == 2);  // the header and the fork-bombed one
}

TEST_CASE("the container's process starts inside its cgroup: born there on v2 (clone3), moved in on v1", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"--explain", "run", "--rm", "--pids-limit", "5", "busybox", "cat", "/proc/self/cgroup"});
  REQUIRE(r.code == 0);
  INFO("--explain said:\n" << r.err);
  if (it::cgroup_v2()) {
    // One line, the group's root as the container's cgroup namespace shows it.
    CHECK(r.out == "0::/\n");
    CHECK(contains(r.err, "|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup=/sys/fs/cgroup/skiff/"));
    CHECK_FALSE(contains(r.err, "cgroup.procs ←"));
  } else {
    CHECK(contains(r.out, ":pids:/\n"));
    CHECK(contains(r.err, "move the container's process into its cgroup"));
    CHECK(contains(r.err, "/cgroup.procs ←"));
    CHECK_FALSE(contains(r.err, "CLONE_INTO_CGROUP"));
  }
}
