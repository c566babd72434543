// tests/integration/test_robustness.cpp — the store stays consistent when
// many `skiff` commands run at once, and when a container's monitor is
// killed. Lesson: 01-first-container. Needs root.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "harness.hpp"

extern char** environ;

using it::contains;
using it::lines;
using it::trim;

namespace {

// Runs `skiff ARGS` against ROOT, stdout to /dev/null, stderr to ERR; its
// exit code, or -1. Thread-safe: no Catch macro here.
int skiff_quietly(const it::stdfs::path& root, const std::vector<std::string>& args,
                  const it::stdfs::path& err) {
  std::vector<std::string> env_text = {"SKIFF_ROOT=" + root.string()};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("SKIFF_ROOT=", 0) != 0) env_text.push_back(*e);
  std::vector<char*> env, argv{const_cast<char*>(SKIFF_BIN)};
  for (auto& e : env_text) env.push_back(e.data());
  env.push_back(nullptr);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, SKIFF_BIN, &fa, nullptr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string row_of(it::Sandbox& box, const std::string& name) {
  for (const auto& line : lines(box.run({"ps", "-a"}).out))
    if (contains(line, name)) return line;
  return "";
}

// The last column of each `ps -a` row: the names.
std::vector<std::string> listed_names(it::Sandbox& box) {
  auto rows = lines(box.run({"ps", "-a"}).out);
  std::vector<std::string> names;
  for (size_t i = 1; i < rows.size(); ++i) {
    auto row = trim(rows[i]);
    names.push_back(row.substr(row.find_last_of(' ') + 1));
  }
  return names;
}

std::vector<std::string> monitors_of(it::Sandbox& box) {
  std::vector<std::string> found;
  for (const auto& cmd : it::command_lines_containing(box.root().string()))
    if (contains(cmd, "skiff-monitor")) found.push_back(cmd);
  return found;
}

// Ended: no such process, or a zombie nobody reaped yet.
bool ended(int pid) {
  auto stat = it::read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return stat.empty() || close == std::string::npos || stat.substr(close + 2, 1) == "Z";
}

}  // namespace

TEST_CASE("20 concurrent run -d, ps, stop, rm -f loops leave a consistent store") {
  it::require_root();
  it::Sandbox box;
  std::set<it::stdfs::path> cgroups_before;
  for (const auto& d : it::all_skiff_cgroup_dirs()) cgroups_before.insert(d);
  const int kWorkers = 20, kRounds = 3;
  // Each worker's last container stays (stopped); the others are removed.
  std::map<std::string, std::string> failures;  // command → "code: stderr"
  std::mutex failures_lock;
  std::set<std::string> kept;
  auto name_of = [&](int w, int round) {
    return box.name("w" + std::to_string(w) + "-r" + std::to_string(round));
  };
  for (int w = 0; w < kWorkers; ++w) kept.insert(name_of(w, kRounds - 1));

  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w)
    workers.emplace_back([&, w] {
      auto err = box.root() / ("worker-" + std::to_string(w) + ".err");
      auto skiff = [&](const std::vector<std::string>& args) {
        int code = skiff_quietly(box.root(), args, err);
        if (code == 0) return;
        std::string what = "skiff";
        for (const auto& a : args) what += " " + a;
        std::lock_guard<std::mutex> lock(failures_lock);
        failures[what] = std::to_string(code) + ": " + it::read_file(err);
      };
      for (int round = 0; round < kRounds; ++round) {
        auto name = name_of(w, round);
        skiff({"run", "-d", "--name", name, "busybox", "sleep", "60"});
        skiff({"ps"});
        skiff({"stop", "-t", "0", name});
        if (round < kRounds - 1) skiff({"rm", "-f", name});
      }
    });
  for (auto& t : workers) t.join();
  auto seconds = it::Seconds(std::chrono::steady_clock::now() - started).count();
  CHECK(seconds < 40);

  std::string failed;
  for (const auto& [what, code] : failures) failed += what + " → " + code + "\n";
  INFO("failed commands:\n" << failed);
  CHECK(failures.empty());

  auto names = listed_names(box);
  CHECK(std::set<std::string>(names.begin(), names.end()) == kept);
  CHECK(names.size() == kept.size());  // no name twice
  CHECK(trim(box.run({"ps", "-q"}).out).empty());
  auto entries = box.container_entries();
  CHECK(entries.size() == kept.size());  // no half-made or half-removed record
  for (const auto& e : entries) CHECK(e.size() == 64);

  std::vector<it::stdfs::path> orphans;
  for (const auto& d : it::all_skiff_cgroup_dirs())
    if (!cgroups_before.count(d)) orphans.push_back(d);
  INFO("cgroups: " << orphans.size() << (orphans.empty() ? "" : " " + orphans[0].string()));
  CHECK(orphans.empty());
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());
  CHECK(monitors_of(box).empty());
}

TEST_CASE("a container whose monitor is SIGKILLed ends too and is shown Exited", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("nomon");
  auto r = box.run({"run", "-d", "--name", name, "busybox", "sleep", "60"});
  REQUIRE(r.code == 0);
  auto id = trim(r.out);
  int pid = box.wait_running(name)["State"]["Pid"];
  auto state = nlohmann::json::parse(it::read_file(box.root() / "containers" / id / "state.json"));
  int monitor = state["MonitorPid"];
  REQUIRE(monitor > 1);
  REQUIRE(contains(it::read_file("/proc/" + std::to_string(monitor) + "/cmdline"), id));
  REQUIRE(::kill(monitor, SIGKILL) == 0);

  // PID 1 dies with it (PR_SET_PDEATHSIG); from then on ps never says Up.
  for (int i = 0; i < 250 && !ended(pid); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(ended(pid));
  for (int i = 0; i < 5; ++i) {
    auto row = row_of(box, name);
    INFO(row);
    CHECK(contains(row, "Exited ("));
    CHECK_FALSE(contains(row, "Up "));
  }
  CHECK(box.inspect(name)["State"]["Running"] == false);
  CHECK(box.run({"wait", name}).code == 0);
  auto rm = box.run({"rm", name});
  INFO(rm.err);
  CHECK(rm.code == 0);
  CHECK(it::cgroup_dirs(id).empty());
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
  CHECK(monitors_of(box).empty());
}

TEST_CASE("a half-made container dir left by a killed skiff is swept by the next run") {
  namespace stdfs = std::filesystem;
  it::require_root();
  it::Sandbox box;
  REQUIRE(box.run({"images"}).code == 0);
  auto stale = box.root() / "containers" / ".new-0000killed";
  auto fresh = box.root() / "containers" / ".new-1111running";
  stdfs::create_directories(stale / "upper");
  stdfs::create_directories(fresh / "upper");
  stdfs::last_write_time(stale, stdfs::file_time_type::clock::now() - std::chrono::minutes(5));
  REQUIRE(box.run({"run", "--rm", "busybox", "true"}).code == 0);
  CHECK_FALSE(stdfs::exists(stale));
  CHECK(stdfs::exists(fresh));  // may be another skiff's create, still under way
  stdfs::remove_all(fresh);
}
