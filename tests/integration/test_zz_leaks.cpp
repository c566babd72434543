// tests/integration/test_zz_leaks.cpp — runs last (files and names sort
// last): after every other integration test, nothing of theirs is left on
// the machine. Each Sandbox already checks its own store; this catches what
// escaped a store (a cgroup, a mount, a monitor). A skiff cgroup that holds
// processes is a running container, maybe another user's: only an empty one
// is a leak. Needs root.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>

#include "harness.hpp"

using it::contains;
namespace stdfs = std::filesystem;

// The check below must be able to fail: an empty skiff cgroup, planted where
// this host keeps them (v1: in each controller's tree, v2: in the one tree),
// is found, and once removed is not.
TEST_CASE("the leak check finds an empty skiff cgroup, on v1 as on v2", "[kernel]") {
  it::require_root();
  const stdfs::path tree = it::cgroup_v2() ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids";
  const bool made_parent = ::mkdir((tree / "skiff").c_str(), 0755) == 0;
  const auto planted = tree / "skiff" / ("leak-probe-" + std::to_string(::getpid()));
  REQUIRE(::mkdir(planted.c_str(), 0755) == 0);
  auto found = it::abandoned(it::all_skiff_cgroup_dirs());
  const bool seen = std::find(found.begin(), found.end(), planted) != found.end();
  ::rmdir(planted.c_str());
  if (made_parent) ::rmdir((tree / "skiff").c_str());
  CHECK(seen);
  found = it::abandoned(it::all_skiff_cgroup_dirs());
  CHECK(std::find(found.begin(), found.end(), planted) == found.end());
}

TEST_CASE("zz leak check: no skiff cgroups, mounts, monitors or bridge remain", "[kernel]") {
  it::require_root();
  std::string cgroups;
  for (const auto& dir : it::abandoned(it::all_skiff_cgroup_dirs())) cgroups += dir.string() + "\n";
  INFO("cgroups left:\n" << cgroups);
  CHECK(cgroups.empty());

  std::string mounts;
  for (const auto& line : it::mountinfo_lines_containing("/tmp/skiff-it-")) mounts += line + "\n";
  INFO("mounts left:\n" << mounts);
  CHECK(mounts.empty());

  std::string monitors;
  for (const auto& cmd : it::command_lines_containing("/tmp/skiff-it-"))
    if (contains(cmd, "skiff-monitor")) monitors += cmd + "\n";
  INFO("monitors left:\n" << monitors);
  CHECK(monitors.empty());

  // The bridge tests run in network namespaces of their own: skiff's
  // bridge, or a veth of a container of theirs, in the machine's own
  // namespace would be one of them escaping, and IPv4 forwarding with it.
  std::string devices;
  for (const auto& line : it::lines(it::read_file("/proc/net/dev")))
    if (contains(line, "skiff0:")) devices += line + "\n";
  INFO("network devices left:\n" << devices);
  CHECK(devices.empty());
}
