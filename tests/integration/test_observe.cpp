// tests/integration/test_observe.cpp — pause/unpause (the freezer), rename,
// top and stats (read from the container's cgroup).
// Lessons: 01-first-container, 04-cgroups. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

// CPU time the container's cgroup used during SECONDS of wall time.
double cpu_seconds_during(const std::string& id, double seconds) {
  double before = it::cgroup_cpu_seconds(id);
  ::usleep(static_cast<useconds_t>(seconds * 1e6));
  return it::cgroup_cpu_seconds(id) - before;
}

}  // namespace

TEST_CASE("pause freezes every process of the container and unpause resumes them", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("pause");
  REQUIRE(box.run({"run", "-d", "--name", name, "busybox", "sh", "-c", "while :; do :; done"})
              .code == 0);
  auto id = box.id_of(name);
  CHECK(cpu_seconds_during(id, 0.3) > 0.1);  // spinning
  REQUIRE(box.run({"pause", name}).code == 0);
  CHECK(cpu_seconds_during(id, 0.3) < 0.01);  // frozen
  CHECK(contains(box.run({"ps"}).out, "(Paused)"));
  auto state = box.inspect(name)["State"];
  CHECK(state["Status"] == "paused");
  CHECK(state["Paused"] == true);
  auto exec = box.run({"exec", name, "true"});  // it would freeze with the rest
  CHECK(exec.code == 1);
  CHECK(contains(exec.err, "is paused"));
  auto again = box.run({"pause", name});
  CHECK(again.code == 1);
  CHECK(contains(again.err, "already paused"));
  REQUIRE(box.run({"unpause", name}).code == 0);
  CHECK(cpu_seconds_during(id, 0.3) > 0.1);
  CHECK(box.inspect(name)["State"]["Status"] == "running");
  // stop of a paused container thaws it so that the signals arrive.
  REQUIRE(box.run({"pause", name}).code == 0);
  REQUIRE(box.run({"stop", "-t", "1", name}).code == 0);
  CHECK(box.inspect(name)["State"]["ExitCode"] == 137);
  CHECK(box.run({"unpause", name}).code == 1);  // not running
}

TEST_CASE("rename moves the name and refuses a taken one") {
  it::require_root();
  it::Sandbox box;
  auto a = box.name("ren-a"), b = box.name("ren-b"), c = box.name("ren-c");
  REQUIRE(box.run({"run", "--name", a, "busybox", "true"}).code == 0);
  REQUIRE(box.run({"run", "--name", b, "busybox", "true"}).code == 0);
  auto id = box.id_of(a);
  REQUIRE(box.run({"rename", a, c}).code == 0);
  CHECK(box.id_of(c) == id);
  CHECK(box.inspect(c)["Name"] == "/" + c);
  CHECK(box.run({"inspect", a}).code == 1);  // the old name is free
  auto taken = box.run({"rename", c, b});
  CHECK(taken.code == 1);
  CHECK(contains(taken.err, "is already in use"));
  CHECK(box.run({"rename", c, "bad/name"}).code != 0);
  REQUIRE(box.run({"run", "--name", a, "busybox", "true"}).code == 0);  // reusable
}

TEST_CASE("top lists the container's processes and stats its usage from the cgroup", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("top");
  REQUIRE(box.run({"run", "-d", "--name", name, "-m", "64m", "busybox", "sh", "-c",
                   "sleep 300 & while :; do :; done"}).code == 0);
  box.wait_running(name);
  auto top = box.run({"top", name});
  REQUIRE(top.code == 0);
  auto rows = lines(top.out);
  REQUIRE(rows.size() == 3);  // the header, sh and sleep
  CHECK(contains(rows[0], "PID"));
  CHECK(contains(top.out, "sleep 300"));
  CHECK_FALSE(contains(top.out, "skiff_integration"));
  auto stats = box.run({"stats", "--no-stream", name});
  REQUIRE(stats.code == 0);
  auto table = lines(stats.out);
  REQUIRE(table.size() == 2);
  CHECK(contains(table[0], "CPU %"));
  CHECK(contains(table[1], name));
  CHECK(contains(table[1], "/ 64MiB"));
  // The busy loop shows: more than half a CPU (two cores here).
  auto pct = table[1].substr(table[1].find(name) + name.size());
  CHECK(std::stod(trim(pct)) > 50.0);
  CHECK(trim(table[1].substr(table[1].rfind(' '))) == "2");  // PIDS
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(box.run({"top", name}).code == 1);
}
