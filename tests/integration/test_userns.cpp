// tests/integration/test_userns.cpp — --userns=remap: root in the container
// is uid 0 inside and a subordinate uid on the host. The ranges come from a
// subuid/subgid file of the test's own ($SKIFF_SUBUID, $SKIFF_SUBGID), so
// the host's /etc/subuid is never touched. Lesson: 11-security. Needs root.
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::trim;
namespace stdfs = std::filesystem;

namespace {

constexpr const char* kUser = "skiff-it";
constexpr const char* kStart = "300000";

// The subordinate ranges for kUser, in files beside the store, for as long
// as the test runs.
struct Ranges {
  stdfs::path file;
  explicit Ranges(const it::Sandbox& box) : file(box.root().string() + "-subid") {
    skiff::core::fs::write_file_atomic(file, "someone:100000:65536\n" + std::string(kUser) + ":" + kStart + ":65536\n");
    ::setenv("SKIFF_SUBUID", file.c_str(), 1);
    ::setenv("SKIFF_SUBGID", file.c_str(), 1);
  }
  ~Ranges() {
    ::unsetenv("SKIFF_SUBUID");
    ::unsetenv("SKIFF_SUBGID");
    std::error_code ec;
    stdfs::remove(file, ec);
  }
};

std::string remap() { return std::string("--userns=remap:") + kUser; }

// The "Uid:" line of /proc/PID/status on the host: real, effective, saved, fs.
std::string host_uids(int pid) {
  for (const auto& line : it::lines(it::read_file("/proc/" + std::to_string(pid) + "/status")))
    if (line.rfind("Uid:", 0) == 0) return trim(line.substr(4));
  return "";
}

}  // namespace

TEST_CASE("userns remap: root inside, a subordinate uid outside, the image's files still root's", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  Ranges ranges(box);
  auto r = box.run({"run", "--rm", remap(), "busybox", "sh", "-c",
                    "id -u; cat /proc/self/uid_map; stat -c %u /bin/busybox; grep CapEff /proc/self/status"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto out = it::lines(r.out);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == "0");
  CHECK(contains(out[1], "300000"));
  CHECK(out[2] == "0");  // the shared layer, seen through an idmapped mount
  CHECK(contains(out[3], "a80425fb"));

  auto name = box.name("remapped");
  REQUIRE(box.run({"run", "-d", "--name", name, remap(), "busybox", "sh", "-c", "echo hi > /made; sleep 300"}).code == 0);
  auto j = box.wait_running(name);
  CHECK(j["HostConfig"]["UsernsMode"] == remap().substr(9));
  int pid = j["State"]["Pid"];
  CHECK(host_uids(pid) == "300000\t300000\t300000\t300000");  // nobody the host knows
  // What the container wrote lands on disk as uid 0, as without remapping:
  // commit and the other containers see the same owners.
  auto made = box.root() / "containers" / std::string(j["Id"]) / "upper/made";
  for (int i = 0; i < 100 && !stdfs::exists(made); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  struct stat st {};
  REQUIRE(::stat(made.c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
  // exec joins the same user namespace.
  auto e = box.run({"exec", name, "cat", "/proc/self/uid_map"});
  CHECK(contains(e.out, "300000"));
  auto nobody = box.run({"exec", "-u", "nobody", name, "id", "-u"});
  CHECK(trim(nobody.out) == "65534");
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
}

TEST_CASE("userns remap: root inside cannot write the host's root-owned files", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  Ranges ranges(box);
  auto dir = box.root().string() + "-hostdir";
  stdfs::create_directories(dir);
  ::chmod(dir.c_str(), 0755);
  auto host = box.run({"run", "--rm", "-v", dir + ":/h", "busybox", "touch", "/h/by-host-root"});
  CHECK(host.code == 0);  // without remapping, root inside is the host's root
  auto r = box.run({"run", "--rm", remap(), "-v", dir + ":/h", "busybox", "touch", "/h/by-remapped-root"});
  CHECK(r.code != 0);
  CHECK(contains(r.err, "Permission denied"));
  CHECK_FALSE(stdfs::exists(stdfs::path(dir) / "by-remapped-root"));
  // Nor make a device node: CAP_MKNOD counts only in the host's namespace.
  auto node = box.run({"run", "--rm", remap(), "busybox", "mknod", "/n", "c", "1", "3"});
  CHECK(node.code != 0);
  // A named volume is the container's: root inside writes it, and on disk
  // it stays root's, as without remapping.
  auto vol = box.name("remapvol");
  auto w = box.run({"run", "--rm", remap(), "-v", vol + ":/data", "busybox", "sh", "-c", "echo v > /data/x"});
  INFO(w.err);
  CHECK(w.code == 0);
  struct stat st {};
  CHECK(::stat((box.root() / "volumes" / vol / "_data/x").c_str(), &st) == 0);
  CHECK(st.st_uid == 0);
  REQUIRE(box.run({"volume", "rm", vol}).code == 0);
  std::error_code ec;
  stdfs::remove_all(dir, ec);
}

TEST_CASE("userns remap: no range, --privileged, or a bad value is refused before anything is made", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  Ranges ranges(box);
  auto before = box.container_entries();
  auto none = box.run({"run", "--rm", "--userns=remap:nobody-here", "busybox", "true"});
  CHECK(none.code == 125);
  CHECK(contains(none.err, "no subordinate range for \"nobody-here\" in " + ranges.file.string()));
  auto priv = box.run({"run", "--rm", remap(), "--privileged", "busybox", "true"});
  CHECK(priv.code == 125);
  CHECK(contains(priv.err, "privileged mode is incompatible with user namespaces"));
  auto bad = box.run({"run", "--rm", "--userns=sideways", "busybox", "true"});
  CHECK(bad.code == 125);
  CHECK(contains(bad.err, "expected host or remap[:USER]"));
  CHECK(box.container_entries() == before);
  auto host = box.run({"run", "--rm", "--userns=host", "busybox", "cat", "/proc/self/uid_map"});
  CHECK(contains(host.out, "4294967295"));  // the host's own map: every id
}

TEST_CASE("info says what a container gets: seccomp, and which user namespace range remap would use", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto before = box.run({"info"});
  REQUIRE(before.code == 0);
  CHECK(contains(before.out, "remap needs a range for \"skiff\""));
  auto file = box.root().string() + "-subid-skiff";
  skiff::core::fs::write_file_atomic(file, "skiff:400000:65536\n");
  ::setenv("SKIFF_SUBUID", file.c_str(), 1);
  ::setenv("SKIFF_SUBGID", file.c_str(), 1);
  auto name = box.name("info");
  REQUIRE(box.run({"run", "--name", name, "--userns=remap", "busybox", "true"}).code == 0);
  auto after = box.run({"info"});
  ::unsetenv("SKIFF_SUBUID");
  ::unsetenv("SKIFF_SUBGID");
  std::error_code ec;
  stdfs::remove(file, ec);
  REQUIRE(after.code == 0);
  CHECK(contains(after.out, " Containers: 1\n  Running: 0\n  Paused: 0\n  Stopped: 1\n"));
  CHECK(contains(after.out, "  seccomp\n   Profile: builtin\n"));
  CHECK(contains(after.out, "remap uses skiff's range, uid 400000 and 65536 more"));
  CHECK(box.inspect(name)["HostConfig"]["UsernsMode"] == "remap");
  REQUIRE(box.run({"rm", name}).code == 0);
}
