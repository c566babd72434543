// labs/04-cgroups/grader/checks.cpp — the checks of lab 04 (cgroups).
//
// Three kinds: plan() as cglimit prints it (pure); apply() and remove() on
// temporary folders laid out like /sys/fs/cgroup (no kernel involved: the
// grader reads back the files); and, as root, the machine's real hierarchy
// (v1 or v2, whichever it runs), where the kernel itself reads the limits
// and enforces pids.max. Real cgroups get unique names (lab04-PID-TOKEN) and
// are removed by the check even when it fails.
#include <array>
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "grading.hpp"

namespace {

namespace stdfs = lab::stdfs;
using lab::RunOptions;

const std::string kProgram = LAB_PROGRAM;
const std::string kForks = LAB_HELPER_FORKS;
const stdfs::path kRealRoot = "/sys/fs/cgroup";

lab::RunResult cglimit(std::vector<std::string> args) {
  args.insert(args.begin(), kProgram);
  return lab::run(args, RunOptions{.cwd = "/tmp"});
}

std::string trim(const std::string& s) {
  const auto end = s.find_last_not_of(" \n");
  return end == std::string::npos ? "" : s.substr(0, end + 1);
}

// Everything below DIR, "name" or "name/" for a folder, one a line, sorted.
std::string tree(const stdfs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : stdfs::recursive_directory_iterator(dir))
    names.push_back(stdfs::relative(e.path(), dir).string() + (e.is_directory() ? "/" : ""));
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += n + "\n";
  return s;
}

// A temporary hierarchy. v1: one folder per controller (and cpuacct, which
// must stay untouched); v2: the root's cgroup.controllers and
// cgroup.subtree_control, and the parent folders the cgroup's name needs.
struct TempHierarchy {
  lab::TempDir dir{"lab04"};
  stdfs::path root = dir / "cgroup";
  TempHierarchy(const std::string& version, const std::string& parent = "") {
    stdfs::create_directories(root);
    if (version == "v1") {
      for (const char* c : {"memory", "cpu", "cpuacct", "pids"}) stdfs::create_directory(root / c);
    } else {
      lab::write_file(root / "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
      lab::write_file(root / "cgroup.subtree_control", "");
      if (!parent.empty()) stdfs::create_directories(root / parent);
    }
  }
};

// The limits of one check: random enough that no value can be hard-coded.
struct Limits {
  long mib = 16 + std::stoul(lab::random_token(2), nullptr, 16) % 200;
  long pids = 4 + std::stoul(lab::random_token(1), nullptr, 16) % 5;  // 4..8
  // cpus = quarters/4, never exactly 1: then quota = period, and a cpu.max
  // written "PERIOD QUOTA" would read the same as "QUOTA PERIOD".
  long quarters = std::array{1, 2, 3, 5, 6, 7}[std::stoul(lab::random_token(1), nullptr, 16) % 6];
  long bytes() const { return mib << 20; }
  long quota() const { return quarters * 25'000; }
  std::vector<std::string> args() const {
    return {"--memory", std::to_string(bytes()), "--cpus", std::to_string(quarters / 4.0),
            "--pids", std::to_string(pids)};
  }
};

// Every correct answer gets the points, not only skiff's: the controllers
// of a subtree_control write may come in any order, and so may writes the
// kernel does not order (the leaf's files; v1's different controllers).
std::set<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

bool enables_all(const std::string& controllers) {
  return words(controllers) == std::set<std::string>{"+memory", "+cpu", "+pids"};
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// "FILE VALUE" lines as a sorted list, to compare two plans as sets.
std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// ---- the real hierarchy ----------------------------------------------------------

std::string real_version() { return stdfs::exists(kRealRoot / "cgroup.controllers") ? "v2" : "v1"; }

// The real cgroup of one check. Whatever the submission does, the
// destructor kills what is left inside and removes its directories.
struct RealCgroup {
  std::string version = real_version();
  std::string name = "lab04-" + std::to_string(::getpid()) + "-" + lab::random_token(8);
  std::vector<stdfs::path> dirs() const {
    if (version == "v2") return {kRealRoot / name};
    return {kRealRoot / "memory" / name, kRealRoot / "cpu" / name, kRealRoot / "pids" / name};
  }
  std::vector<stdfs::path> left() const {
    std::vector<stdfs::path> out;
    for (const auto& d : dirs())
      if (stdfs::exists(d)) out.push_back(d);
    return out;
  }
  std::string file(const std::string& controller, const std::string& f) const {
    const auto dir = version == "v2" ? kRealRoot / name : kRealRoot / controller / name;
    return trim(lab::read_file(dir / f));
  }
  ~RealCgroup() {
    for (const auto& d : dirs()) {
      for (int i = 0; i < 100 && stdfs::exists(d); ++i) {
        std::istringstream procs(lab::read_file(d / "cgroup.procs"));
        for (pid_t pid; procs >> pid;)
          if (pid > 1) ::kill(pid, SIGKILL);
        if (::rmdir(d.c_str()) == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
};

std::string listed(const std::vector<stdfs::path>& paths) {
  std::string s;
  for (const auto& p : paths) s += p.string() + " ";
  return s.empty() ? "(none)" : s;
}

}  // namespace

TEST_CASE("plan v1: memory.limit_in_bytes, cpu.cfs_period_us then cfs_quota_us, pids.max", "[points=15]") {
  const Limits l;
  const std::string name = "lab/c-" + lab::random_token(6);
  const auto r = cglimit(concat({"plan", "v1", name}, l.args()));
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const std::string period = "cpu/" + name + "/cpu.cfs_period_us 100000";
  const std::string quota = "cpu/" + name + "/cpu.cfs_quota_us " + std::to_string(l.quota());
  const std::vector<std::string> expected = {
      "memory/" + name + "/memory.limit_in_bytes " + std::to_string(l.bytes()), period, quota,
      "pids/" + name + "/pids.max " + std::to_string(l.pids)};
  INFO("expected these four writes (memory and pids in any order, the period before the quota):\n"
       << expected[0] << "\n" << period << "\n" << quota << "\n" << expected[3]);
  const auto got = split_lines(r.out);
  REQUIRE(sorted(got) == sorted(expected));
  CHECK(std::find(got.begin(), got.end(), period) < std::find(got.begin(), got.end(), quota));
}

TEST_CASE("plan v2: subtree_control on every parent first, then memory.max, cpu.max, pids.max", "[points=15]") {
  const Limits l;
  const std::string top = "lab-" + lab::random_token(6), name = top + "/sub/c";
  const auto r = cglimit(concat({"plan", "v2", name}, l.args()));
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> parents = {"cgroup.subtree_control", top + "/cgroup.subtree_control",
                                            top + "/sub/cgroup.subtree_control"};
  const std::vector<std::string> leaf = {name + "/memory.max " + std::to_string(l.bytes()),
                                         name + "/cpu.max " + std::to_string(l.quota()) + " 100000",
                                         name + "/pids.max " + std::to_string(l.pids)};
  INFO("expected: +memory +cpu +pids (any order) into " << parents[0] << ", " << parents[1] << ", "
       << parents[2] << ", in that order, then, in any order:\n" << leaf[0] << "\n" << leaf[1] << "\n" << leaf[2]);
  const auto got = split_lines(r.out);
  REQUIRE(got.size() == 6);
  for (size_t i = 0; i < 3; ++i) {
    const auto space = got[i].find(' ');
    CHECK(got[i].substr(0, space) == parents[i]);
    CHECK(enables_all(space == std::string::npos ? "" : got[i].substr(space + 1)));
  }
  CHECK(sorted({got[3], got[4], got[5]}) == sorted(leaf));
}

TEST_CASE("zero limits write nothing", "[points=10]") {
  const Limits l;
  const std::string name = "c-" + lab::random_token(6);
  for (const char* v : {"v1", "v2"}) {
    const auto none = cglimit({"plan", v, name});
    INFO(none.describe());
    REQUIRE(none.exit_code == 0);
    INFO("with no limit at all, plan " << v << " must be empty");
    CHECK(none.out.empty());
  }
  const auto pids_only = cglimit({"plan", "v1", name, "--pids", std::to_string(l.pids)});
  INFO(pids_only.describe());
  INFO("with --pids only, plan v1 must write pids.max only");
  CHECK(pids_only.out == "pids/" + name + "/pids.max " + std::to_string(l.pids) + "\n");
  TempHierarchy h("v1");
  const auto r = cglimit({"apply", h.root.string(), "v1", name, "--pids", std::to_string(l.pids)});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const std::string expected = "cpu/\ncpu/" + name + "/\ncpuacct/\nmemory/\nmemory/" + name +
                               "/\npids/\npids/" + name + "/\npids/" + name + "/pids.max\n";
  INFO("after apply v1 --pids only, the temporary hierarchy must hold:\n" << expected);
  CHECK(tree(h.root) == expected);
}

TEST_CASE("apply and remove on temporary v1 and v2 hierarchies", "[points=15]") {
  const Limits l;
  const std::string name = "c-" + lab::random_token(6);
  {
    TempHierarchy h("v1");
    const auto before = tree(h.root);
    const auto r = cglimit(concat({"apply", h.root.string(), "v1", name}, l.args()));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    INFO("v1, after apply: " << tree(h.root));
    CHECK(lab::read_file(h.root / "memory" / name / "memory.limit_in_bytes") == std::to_string(l.bytes()));
    CHECK(lab::read_file(h.root / "cpu" / name / "cpu.cfs_period_us") == "100000");
    CHECK(lab::read_file(h.root / "cpu" / name / "cpu.cfs_quota_us") == std::to_string(l.quota()));
    CHECK(lab::read_file(h.root / "pids" / name / "pids.max") == std::to_string(l.pids));
    const auto rm = cglimit({"remove", h.root.string(), "v1", name});
    INFO(rm.describe());
    REQUIRE(rm.exit_code == 0);
    INFO("v1, after remove the hierarchy must be as before:\n" << before);
    CHECK(tree(h.root) == before);
  }
  {
    const std::string parent = "lab-" + lab::random_token(6), nested = parent + "/" + name;
    TempHierarchy h("v2", parent);
    const auto r = cglimit(concat({"apply", h.root.string(), "v2", nested}, l.args()));
    INFO(r.describe());
    REQUIRE(r.exit_code == 0);
    INFO("v2, after apply: " << tree(h.root));
    CHECK(enables_all(lab::read_file(h.root / "cgroup.subtree_control")));
    CHECK(enables_all(lab::read_file(h.root / parent / "cgroup.subtree_control")));
    CHECK(lab::read_file(h.root / nested / "memory.max") == std::to_string(l.bytes()));
    CHECK(lab::read_file(h.root / nested / "cpu.max") == std::to_string(l.quota()) + " 100000");
    CHECK(lab::read_file(h.root / nested / "pids.max") == std::to_string(l.pids));
    const auto rm = cglimit({"remove", h.root.string(), "v2", nested});
    INFO(rm.describe());
    REQUIRE(rm.exit_code == 0);
    INFO("v2, after remove " << nested << " must be gone, its parent kept");
    CHECK_FALSE(stdfs::exists(h.root / nested));
    CHECK(stdfs::is_directory(h.root / parent));
  }
}

TEST_CASE("a failure half-way removes what was made, and exits 125", "[points=15]") {
  const Limits l;
  const std::string name = "c-" + lab::random_token(6);
  {
    // No pids hierarchy: mkdir pids/NAME fails after memory/ and cpu/.
    TempHierarchy h("v1");
    stdfs::remove(h.root / "pids");
    const auto before = tree(h.root);
    const auto r = cglimit(concat({"apply", h.root.string(), "v1", name}, l.args()));
    INFO(r.describe());
    CHECK(r.exit_code == 125);
    INFO("v1 without a pids hierarchy: apply must fail and leave the hierarchy as before:\n"
         << before << "it left:\n" << tree(h.root));
    CHECK(tree(h.root) == before);
  }
  {
    // The root's cgroup.subtree_control cannot be written (a folder here):
    // the leaf, made first, must go.
    TempHierarchy h("v2");
    stdfs::remove(h.root / "cgroup.subtree_control");
    stdfs::create_directory(h.root / "cgroup.subtree_control");
    const auto before = tree(h.root);
    const auto r = cglimit(concat({"apply", h.root.string(), "v2", name}, l.args()));
    INFO(r.describe());
    CHECK(r.exit_code == 125);
    INFO("v2 with an unwritable cgroup.subtree_control: apply must fail and leave the hierarchy as before:\n"
         << before << "it left:\n" << tree(h.root));
    CHECK(tree(h.root) == before);
  }
}

TEST_CASE("real hierarchy: the kernel reads back the limits", "[points=10]") {
  RealCgroup cg;
  const Limits l;
  const auto r = cglimit(concat({"apply", kRealRoot.string(), cg.version, cg.name}, l.args()));
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  if (cg.version == "v1") {
    CHECK(cg.file("memory", "memory.limit_in_bytes") == std::to_string(l.bytes()));
    CHECK(cg.file("cpu", "cpu.cfs_period_us") == "100000");
    CHECK(cg.file("cpu", "cpu.cfs_quota_us") == std::to_string(l.quota()));
  } else {
    CHECK(cg.file("", "memory.max") == std::to_string(l.bytes()));
    CHECK(cg.file("", "cpu.max") == std::to_string(l.quota()) + " 100000");
  }
  CHECK(cg.file("pids", "pids.max") == std::to_string(l.pids));
}

TEST_CASE("real hierarchy: a process inside cannot fork past pids.max", "[points=10]") {
  RealCgroup cg;
  const Limits l;
  // cglimit run: the command is the first task of the group; forks tries
  // to start 20 more and reports how many the kernel allowed.
  const auto r = cglimit(concat(concat({"run", kRealRoot.string(), cg.version, cg.name}, l.args()),
                                {"--", kForks, "20"}));
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("with --pids " << l.pids << ", forks (itself one task) must start " << l.pids - 1
       << " children and be refused the next one");
  CHECK(lab::lines(r.out).at(0) == "started " + std::to_string(l.pids - 1));
  INFO("cgroups left behind by run: " << listed(cg.left()));
  CHECK(cg.left().empty());
}

TEST_CASE("real hierarchy: remove leaves no cgroup behind", "[points=10]") {
  RealCgroup cg;
  const Limits l;
  const auto r = cglimit(concat({"apply", kRealRoot.string(), cg.version, cg.name}, l.args()));
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("after apply, these must exist: " << listed(cg.dirs()) << "; found " << listed(cg.left()));
  REQUIRE(cg.left().size() == cg.dirs().size());
  const auto rm = cglimit({"remove", kRealRoot.string(), cg.version, cg.name});
  INFO(rm.describe());
  CHECK(rm.exit_code == 0);
  INFO("left behind after remove: " << listed(cg.left()));
  CHECK(cg.left().empty());
}
