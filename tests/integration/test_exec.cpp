// tests/integration/test_exec.cpp — `skiff exec`: one more process inside a
// running container, with its namespaces, its cgroup and its limits.
// Lessons: 01-first-container, 03-namespaces. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

TEST_CASE("exec runs inside the container: its pids, hostname, cgroup and capabilities") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("exec");
  REQUIRE(box.run({"run", "-d", "--name", name, "--hostname", "inside", "--pids-limit", "50",
                   "busybox", "sleep", "60"}).code == 0);
  auto r = box.run({"exec", name, "sh", "-c",
                    "hostname; ls -d /proc/[0-9]* | wc -l; grep CapEff /proc/self/status; "
                    "grep :pids: /proc/self/cgroup"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == "inside");
  // sleep (PID 1), sh, ls, wc and $(…) subshells: a handful, not the host's hundred.
  CHECK(std::stoi(trim(out[1])) < 8);
  CHECK(contains(out[2], "00000000a80425fb"));
  CHECK(out[3] == "8:pids:/");  // in the container's cgroup, seen through its namespace
  // The exec'd process counts against the container's pids limit on the host.
  auto id = box.id_of(name);
  auto sleeper = box.spawn({"exec", name, "sleep", "5"});
  // /sys/fs/cgroup is not mounted inside: read the count from the host.
  auto procs = trim(it::read_file("/sys/fs/cgroup/pids/skiff/" + id + "/pids.current"));
  for (int i = 0; i < 100 && procs == "1"; ++i) {
    ::usleep(20000);
    procs = trim(it::read_file("/sys/fs/cgroup/pids/skiff/" + id + "/pids.current"));
  }
  CHECK(procs == "2");  // PID 1 and the exec'd sleep
  CHECK(box.run({"rm", "-f", name}).code == 0);
  sleeper.wait();
}

TEST_CASE("exec's options, exit codes and errors follow docker exec") {
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
