// tests/unit/test_cgroups.cpp — the cgroup plan and its application, without
// root. Lesson: lessons/04-cgroups; module: runtime/04-cgroups.
//
// Each test builds a temporary directory laid out like /sys/fs/cgroup. On a
// real cgroupfs, mkdir fills the new directory with its control files; a
// plain directory stays empty. So the tests play the kernel's part: where
// create() is to succeed, they make the leaf directory and the control files
// the kernel would have made, and then read back what create() wrote.
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "04-cgroups/cgroups.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace skiff::cgroups {
// Lets Catch print a Write when a comparison fails.
std::ostream& operator<<(std::ostream& os, const Write& w) {
  return os << "{" << w.dir << ", " << w.file << ", \"" << w.value << "\""
            << (w.optional ? ", optional}" : "}");
}
}  // namespace skiff::cgroups

namespace {

namespace cg = skiff::cgroups;
namespace stdfs = std::filesystem;

const std::string kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kName = "skiff/" + kId;

// The limits of `docker run --memory 64m --cpus 0.5 --pids-limit 20`.
const cg::Limits kLimits{.memory_bytes = 64 << 20, .nano_cpus = 500'000'000, .pids_limit = 20};

using TempDir = skiff::testing::TempDir;

void touch(const stdfs::path& file, const std::string& content = "") {
  stdfs::create_directories(file.parent_path());
  std::ofstream(file) << content;
}

std::string slurp(const stdfs::path& file) { return skiff::core::fs::read_file(file); }

const std::vector<std::string> kV1Controllers = {"memory", "cpu", "cpuacct", "pids",
                                                 "devices", "freezer", "blkio", "cpuset"};

// A v1 root: one directory per controller (blkio and cpuset too, which
// skiff must leave alone), with the root cgroup's swap accounting file if SWAP.
void make_v1_root(const stdfs::path& root, bool swap) {
  for (const auto& c : kV1Controllers) touch(root / c / "cgroup.procs");
  touch(root / "memory" / "memory.limit_in_bytes");
  if (swap) touch(root / "memory" / "memory.memsw.limit_in_bytes");
}

// What mkdir on a v1 cgroupfs would put in the container's directories.
void fake_v1_leaves(const stdfs::path& root, const std::string& name, bool swap) {
  auto leaf = [&](const char* c) { return root / c / name; };
  for (auto f : {"memory.limit_in_bytes", "memory.oom_control"}) touch(leaf("memory") / f);
  if (swap) touch(leaf("memory") / "memory.memsw.limit_in_bytes");
  for (auto f : {"cpu.cfs_period_us", "cpu.cfs_quota_us"}) touch(leaf("cpu") / f);
  touch(leaf("pids") / "pids.max");
  for (auto f : {"devices.deny", "devices.allow"}) touch(leaf("devices") / f);
  for (auto c : {"cpuacct", "freezer"}) stdfs::create_directories(leaf(c));
}

void make_v2_root(const stdfs::path& root, const std::string& controllers) {
  touch(root / "cgroup.controllers", controllers + "\n");
  touch(root / "cgroup.subtree_control");
}

// Docker's list, spelled out as the v1 writes used to be written by hand:
// the plan now derives them from default_device_rules(), and must still
// give exactly these.
std::vector<cg::Write> device_writes(const stdfs::path& dir) {
  std::vector<cg::Write> out{{dir, "devices.deny", "a"}};
  for (auto rule : {"c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm",
                    "c 1:9 rwm", "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm"})
    out.push_back({dir, "devices.allow", rule});
  return out;
}

}  // namespace

TEST_CASE("detect: cgroup.controllers at the root means v2", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  // A hybrid host's cgroup2 lives at unified/: the root is still v1.
  make_v2_root(t.path() / "unified", "");
  CHECK(cg::detect(t.path()).version == cg::Version::v1);
  CHECK(cg::detect(t.path()).root == t.path());
  touch(t.path() / "cgroup.controllers", "cpu memory pids\n");
  CHECK(cg::detect(t.path()).version == cg::Version::v2);
}

TEST_CASE("plan_dirs v1: one per present controller, in a fixed order", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  cg::Hierarchy h{cg::Version::v1, t.path()};
  CHECK(cg::plan_dirs(h, kName) == std::vector<stdfs::path>{
                                       "memory/" + kName, "cpu/" + kName, "cpuacct/" + kName,
                                       "pids/" + kName, "devices/" + kName, "freezer/" + kName});
  stdfs::remove_all(t.path() / "pids");
  stdfs::remove_all(t.path() / "freezer");
  CHECK(cg::plan_dirs(h, kName) == std::vector<stdfs::path>{"memory/" + kName, "cpu/" + kName,
                                                            "cpuacct/" + kName, "devices/" + kName});
}

TEST_CASE("plan_dirs v1: comounted cpu,cpuacct is one directory", "[unit][cgroups]") {
  TempDir t;
  for (auto c : {"memory", "cpu,cpuacct", "pids"}) stdfs::create_directories(t.path() / c);
  stdfs::create_directory_symlink("cpu,cpuacct", t.path() / "cpu");
  stdfs::create_directory_symlink("cpu,cpuacct", t.path() / "cpuacct");
  cg::Hierarchy h{cg::Version::v1, t.path()};
  CHECK(cg::plan_dirs(h, kName) ==
        std::vector<stdfs::path>{"memory/" + kName, "cpu/" + kName, "pids/" + kName});

  // create() makes the one real directory once, and the cpu writes reach it.
  touch(t.path() / "cpu,cpuacct" / kName / "cpu.cfs_period_us");
  touch(t.path() / "cpu,cpuacct" / kName / "cpu.cfs_quota_us");
  auto c = cg::Cgroup::create(h, kName, {.nano_cpus = 2'000'000'000});
  CHECK(c.dirs().size() == 3);
  CHECK(slurp(t.path() / "cpu,cpuacct" / kName / "cpu.cfs_period_us") == "100000");
  CHECK(slurp(t.path() / "cpu,cpuacct" / kName / "cpu.cfs_quota_us") == "200000");
}

TEST_CASE("plan_writes v1: Docker's values, in an order the kernel accepts", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), true);
  std::vector<cg::Write> want{
      {"memory/" + kName, "memory.limit_in_bytes", "67108864"},
      {"memory/" + kName, "memory.memsw.limit_in_bytes", "134217728", true},
      {"cpu/" + kName, "cpu.cfs_period_us", "100000"},
      {"cpu/" + kName, "cpu.cfs_quota_us", "50000"},
      {"pids/" + kName, "pids.max", "20"},
  };
  auto devices = device_writes("devices/" + kName);
  want.insert(want.end(), devices.begin(), devices.end());
  CHECK(cg::plan_writes({cg::Version::v1, t.path()}, kName, kLimits) == want);
}

TEST_CASE("plan_writes v1: no limits still restricts devices", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), true);
  CHECK(cg::plan_writes({cg::Version::v1, t.path()}, kName, {}) == device_writes("devices/" + kName));
  stdfs::remove_all(t.path() / "devices");
  CHECK(cg::plan_writes({cg::Version::v1, t.path()}, kName, {}).empty());
}

TEST_CASE("plan_writes v1: extra device rules follow Docker's list", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  cg::Hierarchy h{cg::Version::v1, t.path()};
  const auto dir = "devices/" + kName;
  cg::Limits l;
  l.devices = {{'b', 254, 0, "r"}, {'a', 8, -1, "rw"}, {'c', 1, 9, "w", false}};
  auto want = device_writes(dir);
  want.push_back({dir, "devices.allow", "b 254:0 r"});
  // "a 8:* rw" would read as "a", every device: it is written as b and c.
  want.push_back({dir, "devices.allow", "b 8:* rw"});
  want.push_back({dir, "devices.allow", "c 8:* rw"});
  want.push_back({dir, "devices.deny", "c 1:9 w"});
  CHECK(cg::plan_writes(h, kName, l) == want);

  SECTION("all_devices (--privileged): every device, and no list") {
    l.all_devices = true;
    CHECK(cg::plan_writes(h, kName, l) == std::vector<cg::Write>{{dir, "devices.allow", "a"}});
    CHECK(cg::device_rules(l).empty());
  }
  SECTION("a rule v2 could not honour is refused on v1 too") {
    l.devices = {{'b', 254, 0, "m", false}};  // a hole in "b *:* m"
    CHECK_THROWS_AS(cg::plan_writes(h, kName, l), skiff::core::Error);
    l.devices = {{'b', 254, 0, "rx"}};
    CHECK_THROWS_AS(cg::plan_writes(h, kName, l), skiff::core::Error);
  }
}

TEST_CASE("plan_writes v2: enable controllers top-down, then the leaf's limits", "[unit][cgroups]") {
  TempDir t;
  make_v2_root(t.path(), "cpuset cpu io memory pids");
  cg::Hierarchy h{cg::Version::v2, t.path()};
  CHECK(cg::plan_dirs(h, kName) == std::vector<stdfs::path>{kName});
  const std::string on = "+memory +cpu +pids";
  CHECK(cg::plan_writes(h, kName, kLimits) == std::vector<cg::Write>{
                                                  {"", "cgroup.subtree_control", on},
                                                  {"skiff", "cgroup.subtree_control", on},
                                                  {kName, "memory.max", "67108864"},
                                                  {kName, "memory.swap.max", "67108864", true},
                                                  {kName, "cpu.max", "50000 100000"},
                                                  {kName, "pids.max", "20"},
                                              });
  SECTION("no limits: only the controllers, and no device rules on v2") {
    CHECK(cg::plan_writes(h, kName, {}) == std::vector<cg::Write>{
                                               {"", "cgroup.subtree_control", on},
                                               {"skiff", "cgroup.subtree_control", on},
                                           });
  }
  SECTION("only the controllers the root offers") {
    make_v2_root(t.path(), "io memory");
    CHECK(cg::plan_writes(h, "a/b/c", {}) == std::vector<cg::Write>{
                                                 {"", "cgroup.subtree_control", "+memory"},
                                                 {"a", "cgroup.subtree_control", "+memory"},
                                                 {"a/b", "cgroup.subtree_control", "+memory"},
                                             });
  }
}

TEST_CASE("plan: a name that leaves the root is refused", "[unit][cgroups]") {
  TempDir t;
  cg::Hierarchy h{cg::Version::v2, t.path()};
  CHECK_THROWS_AS(cg::plan_dirs(h, "../etc"), skiff::core::Error);
  CHECK_THROWS_AS(cg::plan_writes(h, "/skiff/x", kLimits), skiff::core::Error);
  CHECK_THROWS_AS(cg::Cgroup::open(h, ""), skiff::core::Error);
}

TEST_CASE("create v1 writes the limits, memsw only where swap is accounted", "[unit][cgroups]") {
  TempDir t;
  bool swap = GENERATE(true, false);
  CAPTURE(swap);
  make_v1_root(t.path(), swap);
  fake_v1_leaves(t.path(), kName, swap);
  cg::Cgroup::create({cg::Version::v1, t.path()}, kName, kLimits);
  auto leaf = [&](const char* c) { return t.path() / c / kName; };
  CHECK(slurp(leaf("memory") / "memory.limit_in_bytes") == "67108864");
  CHECK(stdfs::exists(leaf("memory") / "memory.memsw.limit_in_bytes") == swap);
  if (swap) CHECK(slurp(leaf("memory") / "memory.memsw.limit_in_bytes") == "134217728");
  CHECK(slurp(leaf("cpu") / "cpu.cfs_period_us") == "100000");
  CHECK(slurp(leaf("cpu") / "cpu.cfs_quota_us") == "50000");
  CHECK(slurp(leaf("pids") / "pids.max") == "20");
  CHECK(slurp(leaf("devices") / "devices.deny") == "a");
  // blkio and cpuset are not skiff's: nothing made there.
  CHECK_FALSE(stdfs::exists(t.path() / "blkio" / "skiff"));
  CHECK_FALSE(stdfs::exists(t.path() / "cpuset" / "skiff"));
}

TEST_CASE("create v1 with no limits writes only the device rules", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), true);
  fake_v1_leaves(t.path(), kName, true);
  cg::Cgroup::create({cg::Version::v1, t.path()}, kName, {});
  CHECK(slurp(t.path() / "memory" / kName / "memory.limit_in_bytes").empty());
  CHECK(slurp(t.path() / "cpu" / kName / "cpu.cfs_quota_us").empty());
  CHECK(slurp(t.path() / "pids" / kName / "pids.max").empty());
  CHECK(slurp(t.path() / "devices" / kName / "devices.deny") == "a");
}

TEST_CASE("create v2 enables controllers and writes the leaf", "[unit][cgroups]") {
  TempDir t;
  make_v2_root(t.path(), "cpuset cpu io memory pids");
  touch(t.path() / "skiff" / "cgroup.subtree_control");
  for (auto f : {"memory.max", "cpu.max", "pids.max"}) touch(t.path() / kName / f);
  // A temporary directory is no cgroup: no device program can be attached
  // to it, so this test asks for none (the next one, and the integration
  // test, attach one for real).
  auto limits = kLimits;
  limits.all_devices = true;
  auto c = cg::Cgroup::create({cg::Version::v2, t.path()}, kName, limits);
  CHECK(c.dirs() == std::vector<stdfs::path>{t.path() / kName});
  CHECK(slurp(t.path() / "cgroup.subtree_control") == "+memory +cpu +pids");
  CHECK(slurp(t.path() / "skiff" / "cgroup.subtree_control") == "+memory +cpu +pids");
  CHECK_FALSE(stdfs::exists(t.path() / kName / "cgroup.subtree_control"));
  CHECK(slurp(t.path() / kName / "memory.max") == "67108864");
  CHECK_FALSE(stdfs::exists(t.path() / kName / "memory.swap.max"));
  CHECK(slurp(t.path() / kName / "cpu.max") == "50000 100000");
  CHECK(slurp(t.path() / kName / "pids.max") == "20");
}

TEST_CASE("create v2 fails, and removes the leaf, without a device program", "[unit][cgroups]") {
  TempDir t;
  make_v2_root(t.path(), "");
  // Without root, bpf(BPF_PROG_LOAD) is refused; as root, the program loads
  // and the attach is refused (a temporary directory is no cgroup). Either
  // way the container must not start without its device policy.
  try {
    cg::Cgroup::create({cg::Version::v2, t.path()}, kName, {});
    FAIL("create succeeded");
  } catch (const skiff::core::Error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("restrict devices: bpf(BPF_PROG_"));
  }
  CHECK_FALSE(stdfs::exists(t.path() / kName));
  CHECK(stdfs::exists(t.path() / "skiff"));  // a shared parent stays
}

TEST_CASE("create removes what it made when a write fails", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  // No fake leaves: create() makes them, and the first limit write finds no
  // control file, as a kernel without the pids controller would answer.
  try {
    cg::Cgroup::create({cg::Version::v1, t.path()}, kName, {.pids_limit = 20});
    FAIL("create succeeded");
  } catch (const skiff::core::Error& e) {
    std::string msg = e.what();
    CHECK(msg.starts_with("set pids limit: write " + (t.path() / "pids" / kName / "pids.max").string() +
                          " ← 20: No such file or directory"));
  }
  for (auto c : {"memory", "cpu", "cpuacct", "pids", "devices", "freezer"}) {
    CHECK_FALSE(stdfs::exists(t.path() / c / kName));
    CHECK(stdfs::exists(t.path() / c / "skiff"));  // a shared parent stays
  }
}

TEST_CASE("add_process writes the pid to cgroup.procs in every directory", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  cg::Hierarchy h{cg::Version::v1, t.path()};
  for (const auto& rel : cg::plan_dirs(h, kName)) touch(t.path() / rel / "cgroup.procs");
  cg::Cgroup::open(h, kName).add_process(4242);
  for (const auto& dir : cg::Cgroup::open(h, kName).dirs()) CHECK(slurp(dir / "cgroup.procs") == "4242");
}

TEST_CASE("oom_killed reads the kernel's oom_kill counter", "[unit][cgroups]") {
  TempDir t;
  SECTION("v1: memory.oom_control") {
    make_v1_root(t.path(), false);
    auto c = cg::Cgroup::open({cg::Version::v1, t.path()}, kName);
    CHECK_FALSE(c.oom_killed());  // no directory at all
    auto file = t.path() / "memory" / kName / "memory.oom_control";
    touch(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
    CHECK_FALSE(c.oom_killed());
    touch(file, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
    CHECK(c.oom_killed());
  }
  SECTION("v2: memory.events") {
    make_v2_root(t.path(), "memory");
    auto c = cg::Cgroup::open({cg::Version::v2, t.path()}, kName);
    CHECK_FALSE(c.oom_killed());
    auto file = t.path() / kName / "memory.events";
    // oom counts the OOM situations, oom_kill the kills; only kills count.
    touch(file, "low 0\nhigh 0\nmax 9\noom 3\noom_kill 0\noom_group_kill 0\n");
    CHECK_FALSE(c.oom_killed());
    touch(file, "low 0\nhigh 0\nmax 9\noom 3\noom_kill 1\noom_group_kill 0\n");
    CHECK(c.oom_killed());
  }
}

TEST_CASE("remove deletes the directories and tolerates missing ones", "[unit][cgroups]") {
  TempDir t;
  make_v1_root(t.path(), false);
  // Without devices/ and without limits, create() writes nothing, so the
  // directories stay empty and rmdir works as on a real cgroupfs.
  stdfs::remove_all(t.path() / "devices");
  cg::Hierarchy h{cg::Version::v1, t.path()};
  auto c = cg::Cgroup::create(h, kName, {});
  auto other = cg::Cgroup::create(h, "skiff/other", {});
  REQUIRE_FALSE(c.dirs().empty());
  for (const auto& dir : c.dirs()) REQUIRE(stdfs::is_directory(dir));
  stdfs::remove(c.dirs().front());  // one already gone: skipped, not an error
  c.remove();
  for (const auto& dir : c.dirs()) CHECK_FALSE(stdfs::exists(dir));
  // The shared parent stays while another container uses it…
  CHECK(stdfs::is_directory(t.path() / "memory" / "skiff"));
  CHECK_NOTHROW(c.remove());
  // …and goes with the last one: no trace of skiff is left in the tree.
  other.remove();
  CHECK_FALSE(stdfs::exists(t.path() / "memory" / "skiff"));
  CHECK(stdfs::is_directory(t.path() / "memory"));
}

TEST_CASE("remove reports an rmdir that cannot succeed", "[unit][cgroups]") {
  TempDir t;
  make_v2_root(t.path(), "");
  cg::Hierarchy h{cg::Version::v2, t.path()};
  touch(t.path() / kName / "stray");  // ENOTEMPTY: not worth retrying
  try {
    cg::Cgroup::open(h, kName).remove();
    FAIL("remove succeeded");
  } catch (const skiff::core::SystemError& e) {
    CHECK(e.err() == ENOTEMPTY);
    CHECK(std::string(e.what()).starts_with("rmdir(" + (t.path() / kName).string() + ")"));
  }
}
