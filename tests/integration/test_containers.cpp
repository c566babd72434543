// tests/integration/test_containers.cpp — `ps`, `inspect`, `rm`, `run --rm`
// and `images`, read as a user reads them. Lessons: 01-first-container,
// 05-images. Needs root.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <regex>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

std::string row_of(it::Sandbox& box, const std::vector<std::string>& ps_args,
                   const std::string& name) {
  for (const auto& line : lines(box.run(ps_args).out))
    if (contains(line, name)) return line;
  return "";
}

bool all_match(const std::vector<std::string>& v, const std::regex& re) {
  for (const auto& s : v)
    if (!std::regex_match(s, re)) return false;
  return !v.empty();
}

}  // namespace

TEST_CASE("ps hides exited containers, ps -a shows them with their status") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("done");
  REQUIRE(box.run({"run", "--name", name, "busybox", "echo", "hi"}).code == 0);
  auto ps = box.run({"ps"});
  REQUIRE(ps.code == 0);
  CHECK(lines(ps.out).size() == 1);  // the header only
  CHECK(contains(ps.out, "CONTAINER ID"));
  CHECK_FALSE(contains(ps.out, name));

  auto row = row_of(box, {"ps", "-a"}, name);
  CHECK(contains(row, "Exited (0)"));
  CHECK(contains(row, "busybox"));
  CHECK(contains(row, "\"echo hi\""));

  auto id = box.id_of(name);
  auto quiet = lines(box.run({"ps", "-aq"}).out);
  CHECK(all_match(quiet, std::regex("[0-9a-f]{12}")));
  CHECK(quiet == std::vector<std::string>{id.substr(0, 12)});
  auto full = lines(box.run({"ps", "-aq", "--no-trunc"}).out);
  CHECK(all_match(full, std::regex("[0-9a-f]{64}")));
  CHECK(full == std::vector<std::string>{id});
  CHECK(trim(box.run({"ps", "-q"}).out).empty());
}

TEST_CASE("ps shows a running container as Up, and -q lists it") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("up");
  auto bg = box.spawn({"run", "--name", name, "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  CHECK(contains(row_of(box, {"ps"}, name), "Up "));
  CHECK(lines(box.run({"ps", "-q"}).out) == std::vector<std::string>{id.substr(0, 12)});
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);
}

TEST_CASE("inspect reports Docker's keys") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("insp");
  auto r = box.run(
      {"run", "--name", name, "-m", "64m", "--cpus", "1.5", "busybox", "sh", "-c", "exit 5"});
  REQUIRE(r.code == 5);
  auto j = box.inspect(name);
  CHECK(std::regex_match(j["Id"].get<std::string>(), std::regex("[0-9a-f]{64}")));
  CHECK(j["Name"] == "/" + name);
  CHECK(j["State"]["Status"] == "exited");
  CHECK(j["State"]["Running"] == false);
  CHECK(j["State"]["ExitCode"] == 5);
  CHECK(j["Config"]["Cmd"] == nlohmann::json({"sh", "-c", "exit 5"}));
  CHECK(j["Config"]["Image"] == "busybox");
  CHECK(j["Config"]["Hostname"] == j["Id"].get<std::string>().substr(0, 12));
  CHECK(j["HostConfig"]["Memory"] == 64 * 1024 * 1024);
  CHECK(j["HostConfig"]["NanoCpus"] == 1'500'000'000);
  CHECK(j["Path"] == "sh");
  // The id prefix and the id find the same container.
  CHECK(box.inspect(j["Id"].get<std::string>().substr(0, 8))["Name"] == "/" + name);
}

TEST_CASE("rm refuses a running container, rm -f kills it and takes its cgroup", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("busy");
  auto bg = box.spawn({"run", "--name", name, "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  CHECK_FALSE(it::cgroup_dirs(id).empty());

  auto refused = box.run({"rm", name});
  CHECK(refused.code == 1);
  CHECK(contains(refused.err, "container is running"));
  CHECK(lines(refused.err).size() == 1);
  CHECK(box.wait_running(name)["Id"] == id);  // still there, still running

  auto forced = box.run({"rm", "-f", name});
  CHECK(forced.code == 0);
  CHECK(trim(forced.out) == name);
  CHECK(bg.wait().code == 137);
  CHECK(it::cgroup_dirs(id).empty());
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
  CHECK(box.container_entries().count(id) == 0);
  CHECK(box.run({"inspect", name}).code == 1);
  // The name is free again.
  CHECK(box.run({"run", "--name", name, "busybox", "true"}).code == 0);
}

TEST_CASE("run --rm leaves nothing behind", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("gone");
  auto r = box.run({"run", "--rm", "--name", name, "busybox", "sh", "-c", "echo bye; exit 4"});
  CHECK(r.code == 4);
  CHECK(r.out == "bye\n");
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
  CHECK(box.run({"inspect", name}).code == 1);
  // A failed start with --rm leaves nothing either.
  CHECK(box.run({"run", "--rm", "busybox", "nosuch"}).code == 127);
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}

// A --rm container's upper dir is thrown away, so its overlay is volatile:
// its last unmount does not sync the host's disk. A kept container's upper
// must survive a crash, so its overlay is not. Both mount paths (6.1's
// mount(2), "fsync=volatile" or "volatile" in the options as the kernel
// prints them; the new API from 6.8) run in the micro-VMs.
TEST_CASE("a --rm container's root is a volatile overlay, a kept container's is not", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  const std::vector<std::string> root_line = {"sh", "-c", "grep ' / / ' /proc/self/mountinfo"};
  auto args = [&](std::vector<std::string> head) {
    head.insert(head.end(), root_line.begin(), root_line.end());
    return head;
  };
  auto disposable = box.run(args({"run", "--rm", "busybox"}));
  INFO("stderr: " << disposable.err);
  REQUIRE(disposable.code == 0);
  CHECK(contains(disposable.out, " overlay "));
  CHECK(contains(disposable.out, "volatile"));

  auto name = box.name("kept");
  auto kept = box.run(args({"run", "--name", name, "busybox"}));
  REQUIRE(kept.code == 0);
  CHECK(contains(kept.out, " overlay "));
  CHECK_FALSE(contains(kept.out, "volatile"));
  // Started again, a kept container mounts its upper again, and what it
  // wrote the first time is there.
  auto writer = name + "-w";
  auto first = box.run({"run", "--name", writer, "busybox", "sh", "-c", "cat /f 2>/dev/null; echo kept > /f"});
  CHECK(first.code == 0);
  CHECK(first.out.empty());
  auto second = box.run({"start", "-a", writer});
  CHECK(second.code == 0);
  CHECK(second.out == "kept\n");
  CHECK(box.run({"rm", name, writer}).code == 0);
}

TEST_CASE("images lists the built-in busybox") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"images"});
  REQUIRE(r.code == 0);
  auto rows = lines(r.out);
  REQUIRE(rows.size() >= 2);
  CHECK(contains(rows[0], "REPOSITORY"));
  CHECK(std::regex_search(r.out, std::regex("\\nbusybox +latest +[0-9a-f]{12} ")));
  auto quiet = lines(box.run({"images", "-q"}).out);
  CHECK(all_match(quiet, std::regex("[0-9a-f]{12}")));
}

TEST_CASE("rm -f still cleans up a container whose monitor died") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("orphan");
  auto bg = box.spawn({"run", "--name", name, "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  std::string monitor;
  for (const auto& cmd : it::command_lines_containing(box.root().string()))
    if (contains(cmd, "skiff-monitor") && contains(cmd, id)) monitor = cmd;
  REQUIRE_FALSE(monitor.empty());
  REQUIRE(::kill(std::stoi(monitor), SIGKILL) == 0);  // "PID: args…"
  bg.wait();
  // The state on disk says running, but PID 1 died with its parent, the
  // monitor (PR_SET_PDEATHSIG), even if nobody reaped it: ps says Exited.
  for (int i = 0; i < 100 && !contains(row_of(box, {"ps", "-a"}, name), "Exited ("); ++i)
    ::usleep(50'000);
  CHECK(contains(row_of(box, {"ps", "-a"}, name), "Exited ("));
  auto rm = box.run({"rm", "-f", name});
  INFO(rm.err);
  CHECK(rm.code == 0);
  CHECK(it::cgroup_dirs(id).empty());
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}
