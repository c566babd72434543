// tests/integration/harness.hpp — runs the built `skiff` against a store of
// the test's own, and takes down everything it made, even when a check fails.
//
// Every integration test starts with `it::require_root()` and one Sandbox:
//
//   it::Sandbox box;                       // /tmp/skiff-it-XXXXXX, SKIFF_ROOT
//   auto r = box.run({"run", "busybox", "hostname"});
//   CHECK(r.code == 0);
//
// The Sandbox's destructor removes every container of its store through
// `skiff rm -f`, then checks that skiff left nothing behind (a cgroup, a
// mount, a monitor): a leftover fails the test, and is cleaned up anyway.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace it {

namespace stdfs = std::filesystem;
using Seconds = std::chrono::duration<double>;

// What a user of `skiff` sees, plus what it cost (for the cpu limit test).
struct Result {
  int code = -1;  // the exit status, or 128+N if killed by signal N
  std::string out, err;
  double wall_seconds = 0;  // from fork to exit
  double cpu_seconds = 0;   // user+system of skiff and every process it reaped
};

// Prints "SKIP: needs root" and exits with ctest's skip code (4) unless root.
void require_root();

// Small helpers a check reads better with.
std::string trim(const std::string& s);
std::vector<std::string> lines(const std::string& s);
bool contains(const std::string& haystack, const std::string& needle);
std::string read_file(const stdfs::path& p);  // "" when it cannot be read
std::string host_cap_eff();                   // this process's CapEff, hex
std::vector<std::string> mountinfo_lines_containing(const std::string& needle,
                                                    const std::string& pid = "self");
// Existing skiff/<id> cgroup directories: /sys/fs/cgroup/skiff/<id> on a pure
// cgroup v2 host, /sys/fs/cgroup/<controller>/skiff/<id> on a v1 or hybrid one.
std::vector<stdfs::path> cgroup_dirs(const std::string& id);
// True on a pure cgroup v2 host (the micro-VM's kernels, tests/vm): one
// tree at /sys/fs/cgroup. False on a v1 or hybrid one (this host).
bool cgroup_v2();
// The container's cgroup file that holds one value: v1 keeps a folder per
// controller (/sys/fs/cgroup/V1_CONTROLLER/skiff/ID/V1_FILE), v2 one folder
// for all (/sys/fs/cgroup/skiff/ID/V2_FILE).
stdfs::path cgroup_file(const std::string& id, const std::string& v1_controller,
                        const std::string& v1_file, const std::string& v2_file);
// CPU time the container's cgroup has used, in seconds (v1 cpuacct.usage,
// v2 cpu.stat's usage_usec).
double cgroup_cpu_seconds(const std::string& id);
// Every such skiff/<id> directory, whatever the id.
std::vector<stdfs::path> all_skiff_cgroup_dirs();
// Those of DIRS that hold no process and still exist a moment later: left
// behind, unlike the cgroup of a container that runs (it holds processes) or
// that another user's skiff is starting or ending (filled or gone soon).
std::vector<stdfs::path> abandoned(const std::vector<stdfs::path>& dirs);
// "PID: ARGS…" of every other process whose command line contains NEEDLE.
std::vector<std::string> command_lines_containing(const std::string& needle);

// A `skiff` command left running while the test looks at it from the host.
// Its output goes to files; wait() collects it. If the test ends first, the
// destructor kills and reaps it.
class Background {
 public:
  Background(pid_t pid, stdfs::path out, stdfs::path err);
  Background(Background&& other) noexcept;
  Background& operator=(Background&&) = delete;
  ~Background();
  pid_t pid() const { return pid_; }
  bool finished();                             // reaps it if it has ended
  Result wait(Seconds timeout = Seconds(60));  // FAILs on timeout
  // Polls its stdout until it holds TEXT (REQUIREd within 10 seconds).
  void wait_for_output(const std::string& text);

 private:
  pid_t pid_;
  stdfs::path out_, err_;
  int status_ = -1;
  std::chrono::steady_clock::time_point started_;
};

// For as long as it lives, this test process (and every skiff it starts)
// is in a network namespace of its own, with lo up, that plays the host:
// the bridge, its nftables table and IPv4 forwarding that skiff makes there
// never touch the machine's real network, and vanish with the namespace.
// Declare it before the Sandbox, so the Sandbox's clean-up runs inside.
// The destructor puts the test back in the namespace it came from.
class PrivateHostNetwork {
 public:
  PrivateHostNetwork();
  PrivateHostNetwork(const PrivateHostNetwork&) = delete;
  PrivateHostNetwork& operator=(const PrivateHostNetwork&) = delete;
  ~PrivateHostNetwork();
  // Runs a shell COMMAND here (ip, nft…) and returns what it printed,
  // REQUIREing exit 0 unless MAY_FAIL.
  std::string sh(const std::string& command, bool may_fail = false) const;

 private:
  int original_ = -1;
};

class Sandbox {
 public:
  Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;
  ~Sandbox();

  const stdfs::path& root() const { return root_; }
  // A container name unique to this test process: "it<pid>-<what>".
  std::string name(const std::string& what) const;

  // Runs `skiff ARGS` with SKIFF_ROOT set to the store, feeding STDIN_TEXT.
  // FAILs if it has not finished after 60 seconds (and kills it).
  Result run(const std::vector<std::string>& args, const std::string& stdin_text = "");
  // Starts `skiff ARGS` without waiting for it.
  Background spawn(const std::vector<std::string>& args);

  // `skiff inspect KEY`, REQUIREd to succeed: the one object it prints.
  nlohmann::json inspect(const std::string& key);
  std::string id_of(const std::string& key) { return inspect(key)["Id"]; }
  // Polls inspect until the container runs (REQUIREd within 10 seconds).
  nlohmann::json wait_running(const std::string& key);
  // The container directories of the store's containers/, whole or
  // half-made (".new-…", ".rm-…"): not its lock or its by-name index.
  std::set<std::string> container_entries() const;

 private:
  // Cleanup's own runner: never throws, never FAILs.
  bool run_quietly(const std::vector<std::string>& args, Result& r) noexcept;
  std::vector<stdfs::path> abandoned_without_record(const std::set<std::string>& ids) const;
  std::string leftovers(const std::set<std::string>& ids) const;
  void force_clean(const std::set<std::string>& ids) noexcept;

  stdfs::path root_;
  std::set<stdfs::path> cgroups_before_;  // to see those a `run --rm` forgot
  int spawned_ = 0;
};

}  // namespace it
