// 04-cgroups/cgroups.hpp — limits on memory, CPU and process count, and the
// devices a container may open.
//
// Kernel concept: a control group is a directory in a cgroup filesystem; the
//   processes listed in its cgroup.procs share the limits written to its
//   control files. cgroup v1 has one hierarchy per controller
//   (/sys/fs/cgroup/memory/…, /sys/fs/cgroup/pids/…); v2 has one unified tree
//   whose controllers are enabled level by level in cgroup.subtree_control.
// Man pages: cgroups(7), cgroup_namespaces(7); the kernel's
//   Documentation/admin-guide/cgroup-v1/ and cgroup-v2.rst.
// Runs in: the parent (create, join, remove); the child only unshares its
//   cgroup namespace once it has been moved in.
// Privilege: root (write access to the cgroup filesystem).
// Lesson: lessons/04-cgroups.
//
// skiff puts each container in `skiff/<id>` under every hierarchy it uses.
// v1 and v2 hide behind one interface: the caller says *what* (Limits), this
// module knows *which files* (plan_writes) and applies them (Cgroup). The
// device rules are the one part v2 does not take as files: see
// device_filter.hpp.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/fd.hpp"

namespace skiff::cgroups {

namespace stdfs = std::filesystem;

// One device rule, in the words of v1's devices.allow ("c 1:3 rwm") and of
// Docker's --device-cgroup-rule. One list of these drives both versions: v1
// writes it to devices.allow/devices.deny, v2 compiles it into an eBPF
// program (device_filter.hpp), so the two always agree.
struct DeviceRule {
  char type = 'a';             // 'c' character, 'b' block, 'a' both
  int major = -1;              // -1: any major ("*")
  int minor = -1;              // -1: any minor ("*")
  std::string access = "rwm";  // a subset of r(ead), w(rite), m(knod)
  bool allow = true;           // false: take the access back (devices.deny)
  bool operator==(const DeviceRule&) const = default;
};

// Docker's default allow-list, after "deny everything": mknod of any node
// (but not opening it), null zero full random urandom, tty console ptmx,
// the pseudo-terminals (136:*) and net/tun.
std::vector<DeviceRule> default_device_rules();

// What a container may use. 0 means "no limit", as in Docker.
struct Limits {
  int64_t memory_bytes = 0;  // --memory: over it, the kernel's OOM killer acts
  int64_t nano_cpus = 0;     // --cpus × 10⁹: CPU time per wall-clock time
  int64_t pids_limit = 0;    // --pids-limit: fork() fails with EAGAIN past it
  // Devices are isolation, not a limit: always restricted, unless all_devices.
  std::vector<DeviceRule> devices;  // --device: allowed beyond the default list
  bool all_devices = false;         // --privileged: every device, no list at all
};

// The device rules a container gets, in order: the default list, then
// LIMITS.devices. Empty when all_devices (nothing is restricted).
std::vector<DeviceRule> device_rules(const Limits& limits);

enum class Version { v1, v2 };

// Where the cgroup filesystems are and which kind they are. On a hybrid host
// (v1 controllers plus an empty cgroup2 at unified/) this says v1.
struct Hierarchy {
  Version version = Version::v2;
  stdfs::path root = "/sys/fs/cgroup";
};

// Looks at ROOT: v2 when ROOT/cgroup.controllers exists, v1 otherwise.
Hierarchy detect(const stdfs::path& root = "/sys/fs/cgroup");

// One control-file write, relative to the hierarchy root, e.g.
// {"memory/skiff/ab12…", "memory.limit_in_bytes", "67108864"}.
// `optional` marks a file that only exists when a kernel feature is on (swap
// accounting): create() skips it when absent instead of failing. The plan
// cannot look for it itself, because on v2 the file appears only once the
// leaf exists and its parent has enabled the memory controller.
struct Write {
  stdfs::path dir;   // relative to Hierarchy::root; "" is the root itself
  std::string file;  // control file in that directory
  std::string value;
  bool optional = false;
  bool operator==(const Write&) const = default;
};

// The directories a container's cgroup consists of, relative to the root:
// one per v1 controller skiff uses (those present under ROOT), or one in v2.
std::vector<stdfs::path> plan_dirs(const Hierarchy& h, const std::string& name);

// The writes that set LIMITS for the cgroup NAME ("skiff/<id>"), in order:
// on v2 first the cgroup.subtree_control of every ancestor, then the leaf's
// limits; on v1 the limits, then the device rules ("deny a", then each rule
// of device_rules(); only "allow a" when all_devices). v2 has no device
// files: create() attaches a program instead. Pure apart from reading which
// controllers exist under h.root.
std::vector<Write> plan_writes(const Hierarchy& h, const std::string& name, const Limits& limits);

// A cgroup's current use, read from its files (0 where a file is absent).
struct Usage {
  int64_t memory_bytes = 0;   // v1 memory.usage_in_bytes, v2 memory.current
  int64_t memory_limit = 0;   // v1 memory.limit_in_bytes, v2 memory.max (0: none)
  int64_t cpu_nanos = 0;      // v1 cpuacct.usage, v2 cpu.stat usage_usec × 1000
  int64_t pids = 0;           // pids.current
};

// A container's cgroup. Move-only; remove() deletes its directories.
class Cgroup {
 public:
  // mkdir every directory of the plan and apply the writes; on v2, attach
  // the device program (unless all_devices). If any step fails, what was
  // already made is removed before the error propagates: a kernel that
  // cannot filter devices is an error, never a container without a policy.
  static Cgroup create(const Hierarchy& h, const std::string& name, const Limits& limits);
  // A cgroup made earlier (e.g. by the process that started the container).
  static Cgroup open(const Hierarchy& h, const std::string& name);

  Cgroup(Cgroup&&) noexcept = default;
  Cgroup& operator=(Cgroup&&) noexcept = default;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;

  // Moves PID into the cgroup (writes cgroup.procs in every directory).
  void add_process(pid_t pid) const;
  // On v2, the group's directory opened for clone3's CLONE_INTO_CGROUP, so
  // that the container's process starts inside instead of being moved in;
  // on v1 (one directory per hierarchy, which clone3 cannot name) an
  // invalid Fd, and the caller uses add_process.
  core::Fd open_for_clone() const;
  // True when the kernel's OOM killer killed a process of this cgroup
  // (v1: "oom_kill N" in memory.oom_control; v2: memory.events).
  bool oom_killed() const;
  // Stops (true) or resumes (false) every process inside at once: v1's
  // freezer.state FROZEN/THAWED, v2's cgroup.freeze 1/0. `pause` and
  // `unpause` (lesson 01).
  void freeze(bool frozen) const;

  // What the processes inside use now, for `stats` and `top`.
  Usage usage() const;
  std::vector<pid_t> processes() const;  // host pids, from cgroup.procs

  // Kills what is left inside, then rmdir every directory (retrying briefly
  // while the kernel finishes tearing the processes down). Missing is fine.
  void remove() const;
  // Absolute directories, for display and tests.
  std::vector<stdfs::path> dirs() const { return dirs_; }

 private:
  Cgroup(Hierarchy h, std::string name);
  Hierarchy h_;
  std::string name_;
  std::vector<stdfs::path> dirs_;  // absolute, worked out once
};

}  // namespace skiff::cgroups
