// tests/integration/test_upto.cpp — `run --upto MODULE` stops the pipeline
// after MODULE, and each stop shows what the next module adds.
// Lessons: 02-chroot, 03-namespaces, 04-cgroups. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

std::string host_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

}  // namespace

TEST_CASE("run --upto chroot: a new root, but the host's pids, name and mounts", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--upto", "chroot", "busybox", "sh", "-c",
                    "echo $$; hostname; ls /proc | wc -l; ls /"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  auto out = lines(r.out);
  REQUIRE(out.size() > 3);
  CHECK(out[0] != "1");  // no pid namespace: a host pid
  CHECK(std::stoi(out[0]) > 1);
  CHECK(out[1] == host_name());       // no uts namespace
  CHECK(trim(out[2]) == "0");         // nobody mounted /proc
  CHECK(contains(r.out, "\nbin\n"));  // but the root is the image's

  // The escape: root with every capability, in the host's mount and pid
  // namespaces, mounts proc and walks through its parent's root (the
  // monitor's, on the host) into the host's files.
  auto escape = box.run({"run", "--upto", "chroot", "busybox", "sh", "-c",
                         std::string("mount -t proc proc /proc && test -d /proc/$PPID/root") +
                             SKIFF_SOURCE_DIR + " && echo escaped"});
  INFO(escape.err);
  CHECK(escape.code == 0);
  CHECK(trim(escape.out) == "escaped");
  // Nothing of the container stays mounted on the host afterwards.
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());
}

TEST_CASE("run --upto namespaces: PID 1 on its own host name, but no cgroup", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("ns");
  auto r = box.run({"run", "--upto", "namespaces", "--hostname", "nsonly", "busybox", "sh", "-c",
                    "echo $$; hostname"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(lines(r.out) == std::vector<std::string>{"1", "nsonly"});

  auto bg = box.spawn(
      {"run", "--upto", "namespaces", "--name", name, "-m", "32m", "busybox", "sleep", "30"});
  auto id = box.wait_running(name)["Id"].get<std::string>();
  CHECK(it::cgroup_dirs(id).empty());
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);
}

TEST_CASE("run --upto cgroups: the cgroup exists, and the container is PID 1", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("cg");
  auto bg = box.spawn(
      {"run", "--upto", "cgroups", "--name", name, "--pids-limit", "20", "busybox", "sleep", "30"});
  auto j = box.wait_running(name);
  auto id = j["Id"].get<std::string>();
  auto pids_max = it::cgroup_file(id, "pids", "pids.max", "pids.max");
  CHECK(std::filesystem::is_directory(pids_max.parent_path()));
  CHECK(trim(it::read_file(pids_max)) == "20");
  // The container's PID 1, seen from the host, is in that cgroup (with no
  // cgroup namespace: this module comes before 11-security's).
  auto pid = std::to_string(j["State"]["Pid"].get<int>());
  CHECK(contains(it::read_file("/proc/" + pid + "/cgroup"),
                 (it::cgroup_v2() ? "0::/skiff/" : ":pids:/skiff/") + id));
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);
  CHECK(it::cgroup_dirs(id).empty());
}

TEST_CASE("run --upto rejects an unknown module with nothing made") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--upto", "network", "busybox", "true"});
  CHECK(r.code == 125);
  CHECK(lines(r.err).size() == 1);
  CHECK(r.err.rfind("skiff: ", 0) == 0);
  CHECK(contains(r.err, "--upto"));
  CHECK(trim(box.run({"ps", "-aq"}).out).empty());
}

TEST_CASE("run --upto chroot that cannot start leaves no mount on the host") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--upto", "chroot", "busybox", "nosuch"});
  CHECK(r.code == 127);
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());
  auto kept = box.run({"run", "--upto", "chroot", "busybox", "nosuch"});
  CHECK(kept.code == 127);
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());
}
