// labs/04-cgroups/mutants/quota_before_period/cgroup.cpp — the solution, but
// the quota is written before the period it is checked against.
#include "cgroup.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace lab {

namespace {

int64_t quota_us(const Limits& l) { return l.nano_cpus * kCpuPeriodUs / 1'000'000'000; }

std::vector<Write> plan_v1(const std::string& name, const Limits& l) {
  std::vector<Write> out;
  if (l.memory_bytes != 0) out.push_back({"memory/" + name, "memory.limit_in_bytes", std::to_string(l.memory_bytes)});
  if (l.nano_cpus != 0) {
    // The kernel checks a new quota against the period in place: period first.
    // MUTANT: quota first.
    out.push_back({"cpu/" + name, "cpu.cfs_quota_us", std::to_string(quota_us(l))});
    out.push_back({"cpu/" + name, "cpu.cfs_period_us", std::to_string(kCpuPeriodUs)});
  }
  if (l.pids != 0) out.push_back({"pids/" + name, "pids.max", std::to_string(l.pids)});
  return out;
}

std::vector<Write> plan_v2(const std::string& name, const Limits& l) {
  std::vector<Write> out;
  if (l.memory_bytes == 0 && l.nano_cpus == 0 && l.pids == 0) return out;
  // A v2 controller works in a cgroup only when every ancestor enabled it
  // for its children, from the root down.
  std::string ancestor;  // "": the root
  out.push_back({ancestor, "cgroup.subtree_control", "+memory +cpu +pids"});
  for (const auto& part : std::filesystem::path(name).parent_path()) {
    ancestor += (ancestor.empty() ? "" : "/") + part.string();
    out.push_back({ancestor, "cgroup.subtree_control", "+memory +cpu +pids"});
  }
  if (l.memory_bytes != 0) out.push_back({name, "memory.max", std::to_string(l.memory_bytes)});
  if (l.nano_cpus != 0)
    out.push_back({name, "cpu.max", std::to_string(quota_us(l)) + " " + std::to_string(kCpuPeriodUs)});
  if (l.pids != 0) out.push_back({name, "pids.max", std::to_string(l.pids)});
  return out;
}

}  // namespace

std::vector<Write> plan(Version version, const std::string& name, const Limits& limits) {
  return version == Version::v1 ? plan_v1(name, limits) : plan_v2(name, limits);
}

void apply(const std::string& root, Version version, const std::string& name, const Limits& limits) {
  std::vector<std::string> made;
  try {
    for (const auto& dir : cgroup_dirs(version, name)) {
      const auto path = root + "/" + dir;
      check(::mkdir(path.c_str(), 0755), "mkdir " + path);
      made.push_back(path);
    }
    for (const auto& w : plan(version, name, limits))
      write_file(root + "/" + (w.dir.empty() ? "" : w.dir + "/") + w.file, w.value);
  } catch (...) {
    // Undo, newest first; the first error is the one the user must see.
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      try {
        remove_dir(*it);
      } catch (...) {
      }
    }
    throw;
  }
}

void remove(const std::string& root, Version version, const std::string& name) {
  for (const auto& dir : cgroup_dirs(version, name)) remove_dir(root + "/" + dir);
}

}  // namespace lab
