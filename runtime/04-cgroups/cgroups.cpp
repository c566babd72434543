// 04-cgroups/cgroups.cpp — see cgroups.hpp. Lesson: lessons/04-cgroups.
//
// Two halves: the plan (which directories, which control files, which
// values, in which order) is pure and tested without root; Cgroup applies it
// to the real filesystem and undoes it. Docker (runc) is the reference for
// every default written here.
#include "04-cgroups/cgroups.hpp"
#include "04-cgroups/device_filter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <iterator>
#include <set>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::cgroups {
namespace {

namespace fs = core::fs;
namespace sys = core::sys;
using namespace std::chrono_literals;

// CFS bandwidth: a quota of CPU time per period. 100 ms is the kernel's and
// Docker's default period; --cpus 0.5 becomes 50 ms of every 100 ms.
constexpr int64_t kCpuPeriodUs = 100000;

int64_t cpu_quota_us(const Limits& l) { return l.nano_cpus * kCpuPeriodUs / 1'000'000'000; }

using Writes = std::vector<Write>;

void v1_memory(const stdfs::path& dir, const Limits& l, Writes& out) {
  if (l.memory_bytes == 0) return;
  // A new cgroup's memsw limit is unlimited and the kernel refuses a memory
  // limit above the memsw one, so the plain limit goes first. Docker's
  // default --memory-swap is twice --memory: as much swap as memory.
  out.push_back({dir, "memory.limit_in_bytes", std::to_string(l.memory_bytes)});
  out.push_back({dir, "memory.memsw.limit_in_bytes", std::to_string(2 * l.memory_bytes), true});
}

void v1_cpu(const stdfs::path& dir, const Limits& l, Writes& out) {
  if (l.nano_cpus == 0) return;
  // The kernel checks a quota against the period already in place (and
  // against the parent's ratio), so the period is set first.
  out.push_back({dir, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)});
  out.push_back({dir, "cpu.cfs_quota_us", std::to_string(cpu_quota_us(l))});
}

void v1_pids(const stdfs::path& dir, const Limits& l, Writes& out) {
  if (l.pids_limit != 0) out.push_back({dir, "pids.max", std::to_string(l.pids_limit)});
}

// Deny everything, then allow the list back. The kernel takes one rule per
// write(2), so each entry is its own write. --privileged allows everything.
void v1_devices(const stdfs::path& dir, const Limits& l, Writes& out) {
  if (l.all_devices) {
    out.push_back({dir, "devices.allow", "a"});
    return;
  }
  auto rules = device_rules(l);
  allowed_devices(rules);  // refuses here what v2 would refuse: the versions agree
  out.push_back({dir, "devices.deny", "a"});
  for (const auto& rule : rules)
    for (auto& line : v1_device_lines(rule))
      out.push_back({dir, rule.allow ? "devices.allow" : "devices.deny", std::move(line)});
}

// The v1 hierarchies skiff joins, in plan order. cpuacct and freezer carry
// no limit: they give `stats` its numbers and `pause` its freezer.
struct V1Controller {
  std::string_view name;
  void (*writes)(const stdfs::path& dir, const Limits&, Writes& out);
};
constexpr V1Controller kV1Controllers[] = {
    {"memory", v1_memory}, {"cpu", v1_cpu},         {"cpuacct", nullptr},
    {"pids", v1_pids},     {"devices", v1_devices}, {"freezer", nullptr},
};

// The controllers skiff enables on v2, as cgroup.subtree_control spells them.
constexpr std::string_view kV2Controllers[] = {"memory", "cpu", "pids"};

// What a failed write was for: the context the user reads before the errno.
struct Purpose {
  std::string_view file_prefix;
  std::string_view doing;
};
constexpr Purpose kPurposes[] = {
    {"cgroup.subtree_control", "enable cgroup controllers"},
    {"memory.", "set memory limit"},
    {"cpu.", "set cpu limit"},
    {"pids.", "set pids limit"},
    {"devices.", "restrict devices"},
};

std::string purpose(const std::string& file) {
  for (const auto& [prefix, doing] : kPurposes)
    if (file.starts_with(prefix)) return std::string(doing);
  return "write " + file;
}

// NAME becomes a path under every hierarchy and remove() kills what it
// finds there, so it must stay below the root.
void check_name(const std::string& name) {
  stdfs::path p(name);
  bool escapes = name.empty() || p.is_absolute();
  for (const auto& part : p) escapes = escapes || part == "..";
  if (escapes) throw core::Error("cgroup name \"" + name + "\" must be a relative path below the root");
}

// "+memory +cpu +pids", keeping only the controllers the root offers.
std::string v2_enable_line(const stdfs::path& root) {
  std::istringstream available(fs::read_file_if_exists(root / "cgroup.controllers").value_or(""));
  std::set<std::string> offered{std::istream_iterator<std::string>(available), {}};
  std::string line;
  for (auto c : kV2Controllers) {
    if (!offered.contains(std::string(c))) continue;
    line += (line.empty() ? "+" : " +") + std::string(c);
  }
  return line;
}

Writes plan_v2(const Hierarchy& h, const std::string& name, const Limits& l) {
  Writes out;
  // A v2 controller is usable in a cgroup only if every ancestor enabled it
  // for its children, top-down. The leaf itself enables nothing: a cgroup
  // that hands controllers to children may not hold processes itself.
  if (auto enable = v2_enable_line(h.root); !enable.empty()) {
    stdfs::path ancestor;  // "": the root
    out.push_back({ancestor, "cgroup.subtree_control", enable});
    for (const auto& part : stdfs::path(name).parent_path()) {
      ancestor /= part;
      out.push_back({ancestor, "cgroup.subtree_control", enable});
    }
  }
  stdfs::path leaf(name);
  if (l.memory_bytes != 0) {
    // memory.swap.max counts swap alone (v1's memsw counted memory + swap),
    // so Docker's "swap = memory" is the same number here.
    out.push_back({leaf, "memory.max", std::to_string(l.memory_bytes)});
    out.push_back({leaf, "memory.swap.max", std::to_string(l.memory_bytes), true});
  }
  if (l.nano_cpus != 0)
    out.push_back({leaf, "cpu.max", std::to_string(cpu_quota_us(l)) + " " + std::to_string(kCpuPeriodUs)});
  if (l.pids_limit != 0) out.push_back({leaf, "pids.max", std::to_string(l.pids_limit)});
  // No device files: v2 has no devices controller. create() attaches an
  // eBPF program built from the same rules instead (device_filter.hpp).
  return out;
}

Writes plan_v1(const Hierarchy& h, const std::string& name, const Limits& l) {
  Writes out;
  for (const auto& c : kV1Controllers) {
    if (c.writes != nullptr && stdfs::is_directory(h.root / c.name))
      c.writes(stdfs::path(c.name) / name, l, out);
  }
  return out;
}

// v2's device policy: the program goes on the leaf once it exists, before
// any process joins, so nothing in the container ever runs without it.
void restrict_devices_v2(const Hierarchy& h, const std::string& name, const Limits& l) {
  if (h.version != Version::v2 || l.all_devices) return;
  try {
    restrict_devices(h.root / name, device_rules(l));
  } catch (...) {
    core::rethrow_with_context("restrict devices");
  }
}

void apply(const Hierarchy& h, const Write& w) {
  auto path = h.root / w.dir / w.file;
  if (w.optional && !stdfs::exists(path)) return;
  try {
    sys::write_file(path, w.value);
  } catch (...) {
    core::rethrow_with_context(purpose(w.file));
  }
}

// The pids listed in DIR/cgroup.procs; none when the directory is gone.
std::vector<pid_t> members(const stdfs::path& dir) {
  std::istringstream procs(fs::read_file_if_exists(dir / "cgroup.procs").value_or(""));
  std::vector<pid_t> pids;
  for (pid_t pid; procs >> pid;) pids.push_back(pid);
  return pids;
}

// SIGKILL cannot be caught or ignored, so the processes die; but they may
// fork between our read and our kill, which is why remove_dir loops. (v2's
// cgroup.kill does it atomically; freezing first would also close the race.)
void kill_members(const stdfs::path& dir) {
  for (pid_t pid : members(dir)) {
    // Never 0 or -1, which kill(2) reads as "a group" or "everyone".
    if (pid <= 1) continue;
    core::trace::call("kill(" + std::to_string(pid) + ", SIGKILL)");
    if (::kill(pid, SIGKILL) < 0 && errno != ESRCH)
      throw core::SystemError(errno, "kill(" + std::to_string(pid) + ", SIGKILL)");
  }
}

// A cgroup directory can be removed only once no task is attached to it
// (EBUSY before that). Killed processes take a moment to leave, longer when
// a whole pid namespace is being torn down, so retry for a while.
void remove_dir(const stdfs::path& dir) {
  if (!stdfs::exists(dir)) return;
  core::trace::call("rmdir " + dir.string());
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  for (;;) {
    kill_members(dir);
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline)
      throw core::SystemError(errno, "rmdir(" + dir.string() + ")");
    std::this_thread::sleep_for(20ms);
  }
}

// mkdir -p, tolerating a parent (skiff/) that another container's
// remove() takes away between our mkdirs: then we make it again.
void make_leaf(const stdfs::path& dir) {
  for (int attempt = 0;; ++attempt) {
    try {
      fs::make_dirs(dir);
      return;
    } catch (const core::SystemError& e) {
      if (e.err() != ENOENT || attempt == 3) throw;
    }
  }
}

// Undo for a failed create(): the error being propagated matters more than
// one a clean-up could raise, so clean-up errors are dropped.
void remove_quietly(const std::vector<stdfs::path>& made) {
  for (auto it = made.rbegin(); it != made.rend(); ++it) ::rmdir(it->c_str());
}

// "oom_kill 3" → 3, from the key/value lines of memory.oom_control (v1) and
// memory.events (v2).
int64_t counter(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string k;
  int64_t v = 0;
  while (lines >> k >> v)
    if (k == key) return v;
  return 0;
}

}  // namespace

std::vector<DeviceRule> default_device_rules() {
  return {
      {'c', -1, -1, "m"},   {'b', -1, -1, "m"},                        // mknod only, any node
      {'c', 1, 3, "rwm"},   {'c', 1, 5, "rwm"},   {'c', 1, 7, "rwm"},  // null zero full
      {'c', 1, 8, "rwm"},   {'c', 1, 9, "rwm"},                        // random urandom
      {'c', 5, 0, "rwm"},   {'c', 5, 1, "rwm"},   {'c', 5, 2, "rwm"},  // tty console ptmx
      {'c', 136, -1, "rwm"},                                           // pts/N
      {'c', 10, 200, "rwm"},                                           // net/tun
  };
}

std::vector<DeviceRule> device_rules(const Limits& limits) {
  if (limits.all_devices) return {};
  auto rules = default_device_rules();
  rules.insert(rules.end(), limits.devices.begin(), limits.devices.end());
  return rules;
}

Hierarchy detect(const stdfs::path& root) {
  // cgroup.controllers exists only at the top of a cgroup2 filesystem. A
  // hybrid host mounts cgroup2 lower down (unified/) with nothing in it.
  bool v2 = stdfs::exists(root / "cgroup.controllers");
  return {v2 ? Version::v2 : Version::v1, root};
}

std::vector<stdfs::path> plan_dirs(const Hierarchy& h, const std::string& name) {
  check_name(name);
  if (h.version == Version::v2) return {stdfs::path(name)};
  // Comounted controllers (cpu,cpuacct with cpu and cpuacct as symlinks)
  // are one hierarchy: one directory, made and removed once.
  // A hierarchy is one mount: stat(2), which follows the symlinks, gives the
  // same device and inode for every name of it.
  std::vector<stdfs::path> dirs;
  std::set<std::pair<dev_t, ino_t>> seen;
  for (const auto& c : kV1Controllers) {
    auto top = h.root / c.name;
    struct stat st {};
    if (::stat(top.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (!seen.insert({st.st_dev, st.st_ino}).second) continue;
    dirs.push_back(stdfs::path(c.name) / name);
  }
  return dirs;
}

std::vector<Write> plan_writes(const Hierarchy& h, const std::string& name, const Limits& limits) {
  check_name(name);
  return h.version == Version::v2 ? plan_v2(h, name, limits) : plan_v1(h, name, limits);
}

Cgroup Cgroup::create(const Hierarchy& h, const std::string& name, const Limits& limits) {
  Cgroup cg(h, name);
  std::vector<stdfs::path> made;  // only leaves: a parent such as skiff/ is shared
  try {
    for (const auto& dir : cg.dirs()) {
      bool existed = stdfs::exists(dir);
      core::trace::call("mkdir " + dir.string());
      make_leaf(dir);
      if (!existed) made.push_back(dir);
    }
    // Limits are written before any process joins: the kernel refuses a
    // memory limit below current usage (EBUSY), and nothing has run yet.
    for (const auto& w : plan_writes(h, name, limits)) apply(h, w);
    restrict_devices_v2(h, name, limits);
  } catch (...) {
    remove_quietly(made);
    throw;
  }
  return cg;
}

Cgroup Cgroup::open(const Hierarchy& h, const std::string& name) {
  check_name(name);
  return Cgroup(h, name);
}

Cgroup::Cgroup(Hierarchy h, std::string name) : h_(std::move(h)), name_(std::move(name)) {
  for (const auto& rel : plan_dirs(h_, name_)) dirs_.push_back(h_.root / rel);
}

void Cgroup::add_process(pid_t pid) const {
  for (const auto& dir : dirs_) sys::write_file(dir / "cgroup.procs", std::to_string(pid));
}

core::Fd Cgroup::open_for_clone() const {
  if (h_.version != Version::v2) return core::Fd();
  // O_RDONLY, not O_PATH: the kernel refuses an O_PATH descriptor there.
  core::Fd fd(::open(dirs_.front().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) throw core::SystemError(errno, "open(" + dirs_.front().string() + ")");
  return fd;
}

bool Cgroup::oom_killed() const {
  auto events = h_.version == Version::v1 ? h_.root / "memory" / name_ / "memory.oom_control"
                                          : h_.root / name_ / "memory.events";
  auto text = fs::read_file_if_exists(events);
  return text && counter(*text, "oom_kill") > 0;
}

namespace {

int64_t read_number(const stdfs::path& file) {
  auto text = fs::read_file_if_exists(file).value_or("");
  if (text.empty() || text.rfind("max", 0) == 0) return 0;
  return std::stoll(text);
}

// v1 reports "no limit" as the largest page-aligned 64-bit number.
int64_t v1_limit(int64_t value) { return value >= (int64_t{1} << 62) ? 0 : value; }

}  // namespace

void Cgroup::freeze(bool frozen) const {
  if (h_.version == Version::v2)
    sys::write_file(h_.root / name_ / "cgroup.freeze", frozen ? "1" : "0");
  else
    sys::write_file(h_.root / "freezer" / name_ / "freezer.state", frozen ? "FROZEN" : "THAWED");
}

Usage Cgroup::usage() const {
  Usage u;
  if (h_.version == Version::v2) {
    auto dir = h_.root / name_;
    u.memory_bytes = read_number(dir / "memory.current");
    u.memory_limit = read_number(dir / "memory.max");
    u.cpu_nanos = counter(fs::read_file_if_exists(dir / "cpu.stat").value_or(""), "usage_usec") * 1000;
    u.pids = read_number(dir / "pids.current");
    return u;
  }
  u.memory_bytes = read_number(h_.root / "memory" / name_ / "memory.usage_in_bytes");
  u.memory_limit = v1_limit(read_number(h_.root / "memory" / name_ / "memory.limit_in_bytes"));
  u.cpu_nanos = read_number(h_.root / "cpuacct" / name_ / "cpuacct.usage");
  u.pids = read_number(h_.root / "pids" / name_ / "pids.current");
  return u;
}

std::vector<pid_t> Cgroup::processes() const {
  return dirs_.empty() ? std::vector<pid_t>{} : members(dirs_.front());
}

void Cgroup::remove() const {
  for (const auto& dir : dirs_) {
    remove_dir(dir);
    // The shared parents (skiff/) go too once empty, so that a host with no
    // container has no trace of skiff in its cgroup tree. A parent still in
    // use refuses (EBUSY, ENOTEMPTY): that is the normal case, not an error.
    auto rel = dir.lexically_relative(h_.root);
    auto top = h_.root / (h_.version == Version::v1 ? *rel.begin() : stdfs::path());
    for (auto p = dir.parent_path(); p != top && p.has_relative_path(); p = p.parent_path())
      if (::rmdir(p.c_str()) != 0) break;
  }
}


}  // namespace skiff::cgroups
