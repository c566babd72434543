// labs/04-cgroups/fixed/cgroup.hpp — the three functions you write in
// cgroup.cpp, and the helpers given to you. Do not change this file: the
// grader compiles its own copy.
//
// One interface, two kernels: the caller says *what* (Limits), plan() knows
// *which files* for cgroup v1 or v2, apply() makes the cgroup and writes
// them, remove() takes it away.
// Man pages: cgroups(7); the kernel's Documentation/admin-guide/cgroup-v1/
// (memory.rst, cfs-bandwidth / sched-bwc.rst, pids.rst) and cgroup-v2.rst.
// Lesson: lessons/04-cgroups. skiff's own version: runtime/04-cgroups — read
// it *after* the lab.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

namespace lab {

// What a process may use. 0 means "no limit": nothing is written for it.
struct Limits {
  int64_t memory_bytes = 0;  // bytes, as the kernel's files count them
  int64_t nano_cpus = 0;     // CPUs × 10⁹: 500'000'000 is half a CPU
  int64_t pids = 0;          // the most tasks the group may hold at once
};

// The CFS period, in microseconds (the kernel's and Docker's default). Half
// a CPU is a quota of 50'000 µs every kCpuPeriodUs.
constexpr int64_t kCpuPeriodUs = 100'000;

enum class Version { v1, v2 };

// One write of VALUE to the control file ROOT/DIR/FILE. DIR is relative to
// the hierarchy's root ROOT; "" is ROOT itself.
struct Write {
  std::string dir;
  std::string file;
  std::string value;
  bool operator==(const Write&) const = default;
};

// Part 1 (pure: no file is touched). The writes that give the cgroup NAME
// (a relative path, e.g. "lab/c1") the LIMITS, in the order the kernel needs:
//  v1  one hierarchy per controller, ROOT/memory, ROOT/cpu, ROOT/pids; NAME's
//      directory under each: memory.limit_in_bytes, then cpu.cfs_period_us
//      and cpu.cfs_quota_us (the quota is checked against the period in
//      place), then pids.max;
//  v2  one tree: first "+memory +cpu +pids" into cgroup.subtree_control of
//      every parent of NAME, the root ("") first, so that NAME gets those
//      controllers; then NAME's memory.max, cpu.max ("QUOTA PERIOD"), pids.max.
// A limit of 0 gives no write at all (and on v2 no limit, no subtree_control).
std::vector<Write> plan(Version version, const std::string& name, const Limits& limits);

// Part 2. Make the cgroup's directories under ROOT (cgroup_dirs(); NAME's
// parents exist already), then perform plan() in order. When any step
// fails, remove the directories this call made (remove_dir()), then let the
// error go on: a failed apply leaves nothing behind.
void apply(const std::string& root, Version version, const std::string& name, const Limits& limits);

// Part 3. Remove every directory of the cgroup (remove_dir()), the ones that
// are already gone being no error.
void remove(const std::string& root, Version version, const std::string& name);

// ---- given (fixed/given.cpp) -------------------------------------------------

// The cgroup's own directories, relative to ROOT: {"memory/NAME",
// "cpu/NAME", "pids/NAME"} on v1, {"NAME"} on v2.
std::vector<std::string> cgroup_dirs(Version version, const std::string& name);

// Throws std::system_error(errno, WHAT) when RC is -1; main() prints it as
// "cglimit: WHAT: reason" and exits with 125.
inline void check(long rc, const std::string& what) {
  if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
}

// Writes VALUE to PATH in one write(2), as control files want. On a real
// cgroup filesystem the file exists already (mkdir made it); on the grader's
// temporary hierarchies it is created. Throws, naming PATH and VALUE.
void write_file(const std::string& path, const std::string& value);

// rmdir(PATH), retrying for a moment while the kernel lets go of tasks that
// just exited (EBUSY). On a plain directory (the grader's temporary
// hierarchies) the files written into it are deleted first, as the kernel
// does with control files. A missing PATH is no error. Throws otherwise.
void remove_dir(const std::string& path);

}  // namespace lab
