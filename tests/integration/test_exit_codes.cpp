// tests/integration/test_exit_codes.cpp — `skiff run` exits as `docker run`
// does: the container's status, 126 and 127 when the command cannot run,
// 128+N when a signal ends it. Lesson: 01-first-container. Needs root.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::lines;

namespace {

std::string status_of(it::Sandbox& box, const std::string& name) {
  for (const auto& line : lines(box.run({"ps", "-a"}).out))
    if (contains(line, name)) return line;
  return "";
}

// Polls until PID has a SIGTERM handler (bit 15 of SigCgt in its status).
bool catches_sigterm(pid_t pid) {
  for (int i = 0; i < 500; ++i) {
    for (const auto& line : lines(it::read_file("/proc/" + std::to_string(pid) + "/status")))
      if (line.rfind("SigCgt:", 0) == 0 && (std::stoull(line.substr(7), nullptr, 16) >> 14) & 1)
        return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

TEST_CASE("run exits with the container's own status", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("three");
  auto r =
      box.run({"run", "--name", name, "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.code == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(contains(status_of(box, name), "Exited (3)"));
  CHECK(box.inspect(name)["State"]["ExitCode"] == 3);
}

TEST_CASE("a command that is not found exits 127, one that cannot run 126", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto missing = box.run({"run", "busybox", "nosuch"});
  CHECK(missing.code == 127);
  CHECK(lines(missing.err).size() == 1);
  CHECK(contains(missing.err, "skiff: "));
  CHECK(contains(missing.err, "executable file not found in $PATH"));
  CHECK(missing.out.empty());

  auto not_exec = box.run({"run", "busybox", "/etc/passwd"});
  CHECK(not_exec.code == 126);
  CHECK(lines(not_exec.err).size() == 1);
  CHECK(contains(not_exec.err, "permission denied"));
}

// The execve itself fails (the script's interpreter is missing): the exec
// stub of lesson 11 reports it, with Docker's status and one line.
TEST_CASE("a command whose interpreter is missing exits 127, reported by the exec stub", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  std::filesystem::path dir = box.root().string() + "-scripts";
  std::filesystem::create_directories(dir);
  struct Remove {
    std::filesystem::path dir;
    ~Remove() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } remove{dir};
  skiff::core::fs::write_file_atomic(dir / "orphan", "#!/no/such/interpreter\n");
  std::filesystem::permissions(dir / "orphan", std::filesystem::perms(0755));
  auto r = box.run({"run", "--rm", "-v", dir.string() + ":/scripts", "busybox", "/scripts/orphan"});
  CHECK(r.code == 127);
  CHECK(lines(r.err).size() == 1);
  CHECK(contains(r.err, "exec: \"/scripts/orphan\": No such file or directory"));
  auto upto = box.run({"run", "--rm", "--upto", "cgroups", "-v", dir.string() + ":/scripts", "busybox",
                       "/scripts/orphan"});
  CHECK(upto.code == 127);  // without the stub, skiff's own execve says the same
  CHECK(contains(upto.err, "exec: \"/scripts/orphan\": No such file or directory"));
}

TEST_CASE("a container killed from outside exits 137", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("killed");
  auto bg = box.spawn({"run", "--name", name, "busybox", "sleep", "30"});
  int pid = box.wait_running(name)["State"]["Pid"];
  REQUIRE(pid > 1);
  REQUIRE(::kill(pid, SIGKILL) == 0);
  auto r = bg.wait(std::chrono::seconds(10));
  CHECK(r.code == 137);
  CHECK(r.wall_seconds < 10);
  auto j = box.inspect(name);
  CHECK(j["State"]["Status"] == "exited");
  CHECK(j["State"]["ExitCode"] == 137);
  CHECK(j["State"]["OOMKilled"] == false);
  CHECK(contains(status_of(box, name), "Exited (137)"));
  CHECK(it::cgroup_dirs(j["Id"]).empty());
}

TEST_CASE("SIGTERM sent to skiff run is forwarded to the container", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("term");
  // A shell as PID 1 ignores SIGTERM unless it traps it: this one exits 42.
  auto bg = box.spawn({"run", "--name", name, "busybox", "sh", "-c",
                       "trap 'exit 42' TERM; echo ready; while :; do sleep 0.1; done"});
  box.wait_running(name);
  bg.wait_for_output("ready");  // the trap is set
  REQUIRE(catches_sigterm(bg.pid()));
  REQUIRE(::kill(bg.pid(), SIGTERM) == 0);
  auto r = bg.wait(std::chrono::seconds(10));
  CHECK(r.code == 42);
  CHECK(box.inspect(name)["State"]["ExitCode"] == 42);
}
