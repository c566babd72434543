// tests/integration/test_zz_leaks.cpp — runs last (files and names sort
// last): after every other integration test, nothing of theirs is left on
// the machine. Each Sandbox already checks its own store; this catches what
// escaped a store (a cgroup, a mount, a monitor). A skiff cgroup that holds
// processes is a running container, maybe another user's: only an empty one
// is a leak. Needs root.
#include <catch2/catch.hpp>

#include "harness.hpp"

using it::contains;

TEST_CASE("zz leak check: no skiff cgroups, mounts or monitors remain") {
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
}
