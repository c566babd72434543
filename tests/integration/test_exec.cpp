// tests/integration/test_exec.cpp — `skiff exec`: one more process inside a
// running container, with its namespaces, its cgroup and its limits.
// Lessons: 01-first-container, 03-namespaces. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

TEST_CASE("exec runs inside the container: its pids, hostname, cgroup and capabilities", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("exec");
  REQUIRE(box.run({"run", "-d", "--name", name, "--hostname", "inside", "--pids-limit", "50",
                   "busybox", "sleep", "60"}).code == 0);
  const bool v2 = it::cgroup_v2();
  auto r = box.run({"exec", name, "sh", "-c",
                    std::string("hostname; ls -d /proc/[0-9]* | wc -l; grep CapEff /proc/self/status; ") +
                        (v2 ? "cat /proc/self/cgroup" : "grep :pids: /proc/self/cgroup")});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == "inside");
  // sleep (PID 1), sh, ls, wc and $(…) subshells: a handful, not the host's hundred.
  CHECK(std::stoi(trim(out[1])) < 8);
  CHECK(contains(out[2], "00000000a80425fb"));
  // In the container's cgroup, seen through its cgroup namespace as its
  // root: "0::/" on v2; on v1 "N:pids:/", N being the host's hierarchy id.
  if (v2) {
    CHECK(out[3] == "0::/");
  } else {
    CHECK(out[3].ends_with(":pids:/"));
  }
  // The exec'd process counts against the container's pids limit on the host.
  auto id = box.id_of(name);
  auto sleeper = box.spawn({"exec", name, "sleep", "5"});
  // /sys/fs/cgroup is not mounted inside: read the count from the host.
  const auto current = it::cgroup_file(id, "pids", "pids.current", "pids.current");
  auto procs = trim(it::read_file(current));
  // Until the exec'd sleep runs, the count is 1, and for a moment 3 (the
  // process that joined the cgroup forks the command, then exits).
  for (int i = 0; i < 250 && procs != "2"; ++i) {
    ::usleep(20000);
    procs = trim(it::read_file(current));
  }
  CHECK(procs == "2");  // PID 1 and the exec'd sleep
  CHECK(box.run({"rm", "-f", name}).code == 0);
  sleeper.wait();
}

TEST_CASE("exec's options, exit codes and errors follow docker exec", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("execopts");
  REQUIRE(box.run({"run", "-d", "--name", name, "-e", "FROM_RUN=1", "busybox", "sleep", "60"})
              .code == 0);
  auto r = box.run({"exec", "-u", "nobody", "-w", "/tmp", "-e", "A=2", name, "sh", "-c",
                    "id -u; pwd; echo $FROM_RUN$A"});
  REQUIRE(r.code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"65534", "/tmp", "12"});
  CHECK(box.run({"exec", name, "sh", "-c", "exit 5"}).code == 5);
  auto missing = box.run({"exec", name, "nosuch"});
  CHECK(missing.code == 127);
  CHECK(contains(missing.err, "executable file not found in $PATH"));
  CHECK(box.run({"exec", name, "/etc/passwd"}).code == 126);
  auto piped = box.run({"exec", "-i", name, "cat"}, "through stdin\n");
  CHECK(piped.out == "through stdin\n");
  CHECK(box.run({"exec", name, "cat"}, "ignored\n").out.empty());  // no -i: no stdin

  REQUIRE(box.run({"stop", "-t", "0", name}).code == 0);
  auto stopped = box.run({"exec", name, "true"});
  CHECK(stopped.code == 1);
  CHECK(contains(stopped.err, "is not running"));
  auto nosuch = box.run({"exec", "nosuch", "true"});
  CHECK(nosuch.code == 1);
  CHECK(contains(nosuch.err, "No such container: nosuch"));
}
