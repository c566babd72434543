// tests/integration/test_lifecycle.cpp — `run -d`, `logs`, `stop`, `start`,
// `restart`, `kill` and `wait`, read as a user reads them. Lesson:
// 01-first-container. Needs root.
#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <thread>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

std::string row_of(it::Sandbox& box, const std::string& name) {
  for (const auto& line : lines(box.run({"ps", "-a"}).out))
    if (contains(line, name)) return line;
  return "";
}

// `run -d ARGS…` REQUIREd to succeed: the id it printed.
std::string run_detached(it::Sandbox& box, std::vector<std::string> args) {
  args.insert(args.begin(), {"run", "-d"});
  auto r = box.run(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  return trim(r.out);
}

// Polls `logs NAME` until its stdout holds TEXT (REQUIREd within 10 s).
void wait_for_log(it::Sandbox& box, const std::string& name, const std::string& text) {
  for (int i = 0; i < 200 && !contains(box.run({"logs", name}).out, text); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(contains(box.run({"logs", name}).out, text));
}

bool has_monitor(it::Sandbox& box, const std::string& id) {
  for (const auto& cmd : it::command_lines_containing(box.root().string()))
    if (contains(cmd, "skiff-monitor") && contains(cmd, id)) return true;
  return false;
}

// A shell as PID 1 that exits 0 on SIGTERM, once it says "ready".
const std::vector<std::string> kTrapsTerm = {
    "busybox", "sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.1; done"};
// A shell as PID 1 with no handler: the kernel drops SIGTERM for it.
const std::vector<std::string> kIgnoresTerm = {"busybox", "sh", "-c",
                                               "while :; do sleep 1; done"};

std::vector<std::string> with_name(const std::string& name, std::vector<std::string> cmd) {
  cmd.insert(cmd.begin(), {"--name", name});
  return cmd;
}

}  // namespace

TEST_CASE("run -d prints the id at once, and logs gives both streams, in order") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("detach");
  auto r = box.run({"run", "-d", "--name", name, "busybox", "sh", "-c",
                    "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 30"});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(std::regex_match(r.out, std::regex("[0-9a-f]{64}\n")));
  CHECK(r.wall_seconds < 2);
  CHECK(r.err.empty());
  auto id = trim(r.out);
  CHECK(box.wait_running(name)["Id"] == id);
  CHECK(contains(row_of(box, name), "Up "));
  wait_for_log(box, name, "three");

  auto logs = box.run({"logs", name});
  CHECK(logs.code == 0);
  CHECK(logs.out == "one\nthree\n");
  CHECK(logs.err == "two\n");

  // -t: an RFC 3339 time before each line, in the order they were written.
  auto stamped = box.run({"logs", "-t", name});
  std::regex line_re("(\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z) (\\w+)");
  std::map<std::string, std::string> time_of;
  for (const auto& l : lines(stamped.out + stamped.err)) {
    std::smatch m;
    INFO(l);
    REQUIRE(std::regex_match(l, m, line_re));
    time_of[m[3]] = m[1];
  }
  REQUIRE(time_of.size() == 3);
  CHECK(time_of["one"] < time_of["two"]);  // same-length UTC stamps sort as text
  CHECK(time_of["two"] < time_of["three"]);

  auto tail = box.run({"logs", "--tail", "2", name});
  CHECK(tail.out == "three\n");
  CHECK(tail.err == "two\n");
  auto recent = box.run({"logs", "--since", "1h", name});
  CHECK(recent.out == "one\nthree\n");
  CHECK(recent.err == "two\n");
  auto future = box.run({"logs", "--since", "2999-01-01T00:00:00Z", name});
  CHECK(future.code == 0);
  CHECK(future.out.empty());
  CHECK(future.err.empty());
  REQUIRE(box.run({"stop", "-t", "0", name}).code == 0);
}

TEST_CASE("logs -f follows the container until it ends") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("follow");
  run_detached(box, {"--name", name, "busybox", "sh", "-c",
                     "for i in 1 2 3; do echo line$i; sleep 0.3; done"});
  auto follow = box.spawn({"logs", "-f", name});
  follow.wait_for_output("line1");
  CHECK_FALSE(follow.finished());  // still following: lines 2 and 3 are to come
  auto r = follow.wait(std::chrono::seconds(10));
  CHECK(r.code == 0);
  CHECK(r.out == "line1\nline2\nline3\n");
  CHECK(r.wall_seconds < 5);
  CHECK(contains(row_of(box, name), "Exited (0)"));
}

TEST_CASE("stop kills a PID 1 that ignores SIGTERM after -t seconds, and cleans up", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("stubborn");
  auto id = run_detached(box, with_name(name, kIgnoresTerm));
  box.wait_running(name);
  CHECK_FALSE(it::cgroup_dirs(id).empty());
  CHECK(has_monitor(box, id));

  auto r = box.run({"stop", "-t", "1", name});
  INFO("stderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == name);
  CHECK(r.wall_seconds > 0.9);
  CHECK(r.wall_seconds < 3);
  CHECK(contains(row_of(box, name), "Exited (137)"));
  CHECK(box.inspect(name)["State"]["Running"] == false);
  CHECK(it::cgroup_dirs(id).empty());
  for (int i = 0; i < 100 && has_monitor(box, id); ++i)  // it may take a moment to exit
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK_FALSE(has_monitor(box, id));

  // Stopping it again is not an error.
  auto again = box.run({"stop", name});
  CHECK(again.code == 0);
  CHECK(trim(again.out) == name);
  CHECK(again.wall_seconds < 2);
}

TEST_CASE("stop of a container that handles SIGTERM is quick and exits 0") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("polite");
  auto id = run_detached(box, with_name(name, kTrapsTerm));
  wait_for_log(box, name, "ready");
  auto r = box.run({"stop", name});  // the default grace period is 10 s
  CHECK(r.code == 0);
  CHECK(r.wall_seconds < 2);
  CHECK(contains(row_of(box, name), "Exited (0)"));
  CHECK(it::cgroup_dirs(id).empty());
}

TEST_CASE("start runs a stopped container again with its files, start -a gives its code", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("again");
  auto first = box.run({"run", "--name", name, "busybox", "sh", "-c",
                        "touch /data.txt; echo run$(($(wc -l < /data.txt) + 1)) >> /data.txt; "
                        "cat /data.txt; exit 3"});
  CHECK(first.code == 3);
  CHECK(first.out == "run1\n");

  auto second = box.run({"start", "-a", name});
  CHECK(second.code == 3);
  CHECK(second.out == "run1\nrun2\n");  // the first run's line is still there
  CHECK(contains(row_of(box, name), "Exited (3)"));

  // start without -a: the name, and the container runs in the background.
  auto sleeper = box.name("sleeper");
  run_detached(box, {"--name", sleeper, "busybox", "sh", "-c", "echo started; sleep 30"});
  REQUIRE(box.run({"stop", "-t", "0", sleeper}).code == 0);
  auto started = box.run({"start", sleeper});
  CHECK(started.code == 0);
  CHECK(trim(started.out) == sleeper);
  CHECK(started.wall_seconds < 2);
  box.wait_running(sleeper);
  CHECK(contains(row_of(box, sleeper), "Up "));
  for (int i = 0; i < 100 && lines(box.run({"logs", sleeper}).out).size() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(box.run({"logs", sleeper}).out == "started\nstarted\n");  // the log goes on
  auto refused = box.run({"start", "-a", sleeper});
  CHECK(refused.code == 1);
  CHECK(contains(refused.err, "already running"));
}

TEST_CASE("kill sends the signal asked for, wait prints the exit code", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto polite = box.name("term");
  run_detached(box, with_name(polite, kTrapsTerm));
  wait_for_log(box, polite, "ready");
  auto term = box.run({"kill", "-s", "TERM", polite});
  CHECK(term.code == 0);
  CHECK(trim(term.out) == polite);
  auto waited = box.run({"wait", polite});
  CHECK(waited.code == 0);
  CHECK(waited.out == "0\n");

  auto stubborn = box.name("kill");
  run_detached(box, with_name(stubborn, kIgnoresTerm));
  box.wait_running(stubborn);
  auto wait_bg = box.spawn({"wait", stubborn});
  auto killed = box.run({"kill", stubborn});  // SIGKILL by default
  CHECK(killed.code == 0);
  CHECK(trim(killed.out) == stubborn);
  auto w = wait_bg.wait(std::chrono::seconds(10));
  CHECK(w.code == 0);
  CHECK(w.out == "137\n");
  CHECK(contains(row_of(box, stubborn), "Exited (137)"));

  auto not_running = box.run({"kill", stubborn});
  CHECK(not_running.code == 1);
  CHECK(contains(not_running.err, "is not running"));
  CHECK(not_running.out.empty());

  auto bad = box.run({"kill", "-s", "NOSIG", stubborn});
  CHECK(bad.code == 1);
  CHECK(contains(bad.err, "invalid signal: NOSIG"));

  auto negative = box.run({"stop", "-t", "-1", stubborn});
  CHECK(negative.code != 0);
  CHECK(contains(negative.err, "-t"));
  CHECK(negative.out.empty());
}

TEST_CASE("restart starts the container anew") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("restart");
  auto id = run_detached(box, with_name(name, kIgnoresTerm));
  auto before = box.wait_running(name);
  auto r = box.run({"restart", "-t", "0", name});
  INFO("stderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == name);
  auto after = box.wait_running(name);
  CHECK(after["Id"] == id);
  CHECK(after["State"]["StartedAt"] != before["State"]["StartedAt"]);
  CHECK(after["State"]["Pid"] != before["State"]["Pid"]);
  CHECK(contains(row_of(box, name), "Up "));
  CHECK(lines(box.run({"ps", "-q"}).out).size() == 1);
}

TEST_CASE("run -d --rm: the container is gone once stopped", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("rmd");
  auto id = run_detached(box, {"--rm", "--name", name, "busybox", "sleep", "30"});
  box.wait_running(name);
  auto r = box.run({"stop", "-t", "0", name});
  CHECK(r.code == 0);
  CHECK(r.wall_seconds < 3);  // -t 0: SIGKILL at once, not "wait forever"
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
  CHECK(box.run({"inspect", name}).code == 1);
  CHECK(box.container_entries().empty());
  CHECK(it::cgroup_dirs(id).empty());
}

TEST_CASE("lifecycle commands name a missing container") {
  it::require_root();
  it::Sandbox box;
  for (const char* command : {"logs", "stop", "start", "wait", "kill", "restart"}) {
    auto r = box.run({command, "nosuch"});
    INFO(command);
    CHECK(r.code == 1);
    CHECK(trim(r.err) == "skiff: No such container: nosuch");
    CHECK(r.out.empty());
  }
}
