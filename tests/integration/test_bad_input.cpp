// tests/integration/test_bad_input.cpp — every refusal is one line on
// stderr starting "skiff: ", Docker's exit code, and nothing half-made: no
// container record, no cgroup, no mount. Lesson: 01-first-container.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <set>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

// What a failed command could leave behind, taken before and after it.
// The cgroup tree is the machine's: other users' containers may come and
// go meanwhile, so a new cgroup counts only if it is abandoned.
struct Snapshot {
  std::set<std::string> containers;
  std::set<std::string> cgroups;
  std::vector<std::string> mounts;

  static Snapshot of(const it::Sandbox& box) {
    Snapshot s;
    s.containers = box.container_entries();
    for (const auto& dir : it::all_skiff_cgroup_dirs()) s.cgroups.insert(dir.string());
    s.mounts = it::mountinfo_lines_containing(box.root().string());
    return s;
  }
};

std::set<std::string> added(const std::set<std::string>& before,
                            const std::set<std::string>& after) {
  std::set<std::string> out;
  for (const auto& a : after)
    if (!before.count(a)) out.insert(a);
  return out;
}

std::vector<std::filesystem::path> new_abandoned_cgroups(const Snapshot& before,
                                                         const Snapshot& after) {
  auto fresh = added(before.cgroups, after.cgroups);
  return it::abandoned({fresh.begin(), fresh.end()});
}

void check_refused(it::Sandbox& box, const std::vector<std::string>& args, int code,
                   const std::string& message) {
  auto before = Snapshot::of(box);
  auto r = box.run(args);
  auto after = Snapshot::of(box);
  INFO("stderr: " << r.err);
  CHECK(r.code == code);
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.rfind("skiff: ", 0) == 0);
  CHECK(contains(r.err, message));
  CHECK(r.out.empty());
  CHECK(added(before.containers, after.containers).empty());
  CHECK(new_abandoned_cgroups(before, after).empty());
  CHECK(after.mounts.empty());
}

// Runs COMMAND with /bin/sh, SKIFF_ROOT set and SIGPIPE back to its default
// (the harness ignores it, and an ignored signal stays ignored across exec).
void shell(const it::Sandbox& box, const std::string& command) {
  pid_t pid = ::fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    ::setenv("SKIFF_ROOT", box.root().c_str(), 1);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), nullptr);
    ::_exit(127);
  }
  REQUIRE(pid > 0);
  ::waitpid(pid, nullptr, 0);
}

}  // namespace

TEST_CASE("refused runs: one line, code 125, nothing made") {
  it::require_root();
  it::Sandbox box;
  // The store and its busybox image exist first, so only the run could add.
  REQUIRE(box.run({"images"}).code == 0);
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"run", "-m", "12x", "busybox", "true"}, "invalid argument \"12x\" for \"-m, --memory\""},
      {{"run", "-m", "1k", "busybox", "true"}, "Minimum memory limit allowed is 6MB"},
      {{"run", "--cpus", "abc", "busybox", "true"}, "invalid argument \"abc\" for \"--cpus\""},
      {{"run", "--cpus", "64", "busybox", "true"}, "range of CPUs is from 0.01"},
      {{"run", "--pids-limit", "x", "busybox", "true"}, "--pids-limit"},
      {{"run", "--bogus", "busybox", "true"}, "unknown flag: --bogus"},
      {{"run", "-w", "relative", "busybox", "true"}, "needs to be an absolute path"},
      {{"run", "--name", "bad/name", "busybox", "true"}, "Invalid container name (bad/name)"},
      {{"run", "--env-file", "/nonexistent/env", "busybox", "true"}, "/nonexistent/env"},
      {{"run"}, "\"skiff run\" requires at least 1 argument"},
      {{"frobnicate"}, "'frobnicate' is not a skiff command"},
  };
  for (const auto& c : cases) {
    INFO("skiff " << c.args.front() << " … → " << c.message);
    check_refused(box, c.args, c.args.front() == "frobnicate" ? 1 : 125, c.message);
  }
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}

TEST_CASE("run of an image that is nowhere: the failed pull is the one error, code 125, nothing made") {
  it::require_root();
  it::Sandbox box;  // its Docker Hub is 127.0.0.1:9, where nothing listens
  REQUIRE(box.run({"images"}).code == 0);
  auto before = Snapshot::of(box);
  auto r = box.run({"run", "nosuchimage"});
  auto after = Snapshot::of(box);
  INFO("stderr: " << r.err);
  CHECK(r.code == 125);
  // Docker's two lines: what is missing, then why the pull failed.
  auto err = lines(r.err);
  REQUIRE(err.size() == 2);
  CHECK(err[0] == "Unable to find image 'nosuchimage:latest' locally");
  CHECK(err[1].rfind("skiff: ", 0) == 0);
  CHECK(contains(err[1], "127.0.0.1:9"));
  CHECK(r.out.empty());
  CHECK(added(before.containers, after.containers).empty());
  CHECK(after.mounts.empty());
  CHECK(box.run({"images", "-q"}).out == box.run({"images", "-q", "busybox"}).out);
}

TEST_CASE("a duplicate --name is refused, naming the name and its holder") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("dup");
  REQUIRE(box.run({"run", "--name", name, "busybox", "true"}).code == 0);
  auto holder = box.id_of(name);
  check_refused(
      box, {"run", "--name", name, "busybox", "true"}, 125,
      "The container name \"/" + name + "\" is already in use by container \"" + holder + "\"");
  // The holder keeps its name.
  CHECK(box.id_of(name) == holder);
  CHECK(lines(box.run({"ps", "-aq"}).out).size() == 1);
}

TEST_CASE("rm and inspect of an unknown container exit 1") {
  it::require_root();
  it::Sandbox box;
  check_refused(box, {"rm", "nosuch"}, 1, "No such container: nosuch");
  check_refused(box, {"rm", "-f", "nosuch"}, 1, "No such container: nosuch");
  auto r = box.run({"inspect", "nosuch"});
  CHECK(r.code == 1);
  CHECK(trim(r.err) == "skiff: No such object: nosuch");
}

TEST_CASE("a command that cannot start leaves a Created record, removable with rm") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("created");
  auto before = Snapshot::of(box);
  auto r = box.run({"run", "--name", name, "-m", "32m", "busybox", "nosuch"});
  CHECK(r.code == 127);
  CHECK(lines(r.err).size() == 1);
  // As in Docker, the container exists, never started: no cgroup, no mount.
  auto after = Snapshot::of(box);
  CHECK(new_abandoned_cgroups(before, after).empty());
  CHECK(after.mounts.empty());
  std::string row;
  for (const auto& line : lines(box.run({"ps", "-a"}).out))
    if (contains(line, name)) row = line;
  CHECK(contains(row, "Created"));
  CHECK(trim(box.run({"ps", "-q"}).out).empty());  // not running
  auto j = box.inspect(name);
  CHECK(j["State"]["Status"] == "created");
  CHECK(contains(j["State"]["Error"].get<std::string>(), "executable file not found"));

  auto rm = box.run({"rm", name});
  CHECK(rm.code == 0);
  CHECK(trim(rm.out) == name);
  CHECK(box.container_entries() == before.containers);
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}

TEST_CASE("a run whose stderr is closed early leaves nothing half-made") {
  it::require_root();
  it::Sandbox box;
  REQUIRE(box.run({"images"}).code == 0);
  auto before = Snapshot::of(box);
  // --explain narrates on stderr; the reader leaves after one byte, as
  // `| head` does. skiff must not die half-way through the start.
  shell(box, SKIFF_BIN " --explain run --rm busybox true 2>&1 | head -c 1 >/dev/null");
  auto ps = box.run({"ps", "-a"});
  INFO(ps.out);
  CHECK(lines(ps.out).size() == 1);  // --rm: not even a record
  auto after = Snapshot::of(box);
  CHECK(new_abandoned_cgroups(before, after).empty());
  CHECK(after.mounts.empty());
}
