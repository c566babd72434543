// tests/integration/test_isolation.cpp — what the namespaces and the new
// root hide: the container is PID 1 on a host of its own name, sees none of
// the host's processes, files or mounts, and its mounts stay out of the host.
// Lessons: 02-chroot, 03-namespaces. Needs root.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>

#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;

namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::vector<std::string> numeric(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names)
    if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit)) out.push_back(n);
  return out;
}

}  // namespace

TEST_CASE("the container's command is PID 1 of its own pid namespace", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "busybox", "sh", "-c", "echo $$"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(trim(r.out) == "1");
}

TEST_CASE("the hostname is the first 12 characters of the id, or --hostname", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("host");
  auto r = box.run({"run", "--name", name, "busybox", "sh", "-c", "hostname; cat /etc/hostname"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto id = box.id_of(name);
  REQUIRE(id.size() == 64);
  CHECK(lines(r.out) == std::vector<std::string>{id.substr(0, 12), id.substr(0, 12)});

  auto custom = box.run({"run", "--hostname", "web-1", "busybox", "sh", "-c",
                         "hostname; cat /etc/hostname; echo $HOSTNAME"});
  INFO(custom.err);
  REQUIRE(custom.code == 0);
  CHECK(lines(custom.out) == std::vector<std::string>{"web-1", "web-1", "web-1"});
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  CHECK(std::string(host) != "web-1");  // the host kept its own name
}

TEST_CASE("the host's processes are invisible in the container", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "busybox", "sh", "-c", "ls /proc; echo ---; ps -o pid,comm"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  auto parts = r.out.substr(0, r.out.find("---"));
  auto pids = numeric(lines(parts));
  // sh is 1 and ls may be 2 (busybox runs the last command in place).
  CHECK(!pids.empty());
  CHECK(pids.size() <= 2);
  CHECK(has(pids, "1"));
  CHECK_FALSE(has(pids, std::to_string(::getpid())));
  // ps: a header and at most the shell and ps itself.
  auto ps = lines(r.out.substr(r.out.find("---") + 4));
  CHECK(ps.size() <= 3);
  CHECK_FALSE(contains(r.out, "skiff_integration"));
}

TEST_CASE("the container's root is the image, with /proc, /dev and /sys", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--hostname", "rooted", "busybox", "sh", "-c",
                    "ls /; echo ---; cat /etc/hostname; ls /proc/self/status /dev/null"});
  INFO(r.out << r.err);
  REQUIRE(r.code == 0);
  auto top = lines(r.out.substr(0, r.out.find("---")));
  for (const char* dir : {"bin", "dev", "etc", "proc", "sys", "tmp", "usr"}) {
    INFO(dir);
    CHECK(has(top, dir));
  }
  // The host's top-level entries that the image does not have are not there
  // (e.g. /boot, /lib, /work): the root is the image's, not the host's.
  const std::vector<std::string> image_top = {"bin", "dev", "etc", "home", "linuxrc", "proc",
                                              "root", "sbin", "sys", "tmp", "usr", "var"};
  int host_only = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/")) {
    auto name = entry.path().filename().string();
    if (std::find(image_top.begin(), image_top.end(), name) != image_top.end()) continue;
    ++host_only;
    INFO(name);
    CHECK_FALSE(has(top, name));
  }
  CHECK(host_only > 0);
  auto rest = lines(r.out.substr(r.out.find("---") + 4));
  REQUIRE(rest.size() == 3);
  CHECK(rest[0] == "rooted");
  CHECK(rest[1] == "/dev/null");  // ls sorts its arguments
  CHECK(rest[2] == "/proc/self/status");
}

TEST_CASE("the container's mounts are not in the host's mount table", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  const auto store = box.root().string();
  auto r = box.run({"run", "busybox", "cat", "/proc/self/mountinfo"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  // Inside: an overlay root built from the store, and its own /proc.
  std::string root_line;
  for (const auto& line : lines(r.out))
    if (contains(line, " / / ")) root_line = line;
  CHECK(contains(root_line, " - overlay "));
  CHECK(contains(root_line, store));
  CHECK(contains(r.out, " /proc "));
  CHECK(it::mountinfo_lines_containing(store).empty());

  // While one runs: its mounts exist (its own table shows them) yet the
  // host's table has none of them.
  auto name = box.name("mounts");
  auto bg = box.spawn({"run", "--name", name, "busybox", "sleep", "30"});
  auto pid = std::to_string(box.wait_running(name)["State"]["Pid"].get<int>());
  CHECK_FALSE(it::mountinfo_lines_containing(store, pid).empty());
  CHECK(it::mountinfo_lines_containing(store).empty());
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  CHECK(bg.wait().code == 137);
  CHECK(it::mountinfo_lines_containing(store).empty());
}
