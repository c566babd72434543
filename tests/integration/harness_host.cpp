// tests/integration/harness_host.cpp — the harness's view of the host: its
// mount table, its cgroup tree, its processes. See harness.hpp.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "harness.hpp"

namespace it {
namespace {

const char* const kCgroupRoot = "/sys/fs/cgroup";

// Where skiff's cgroups can be: the one tree of a pure cgroup v2 host
// (/sys/fs/cgroup/skiff/ID), or every v1 hierarchy of a hybrid or v1 host
// (/sys/fs/cgroup/memory/skiff/ID, …, and unified/skiff/ID if one is made).
std::vector<stdfs::path> cgroup_trees() {
  const stdfs::path root = kCgroupRoot;
  std::error_code ec;
  if (stdfs::exists(root / "cgroup.controllers", ec)) return {root};
  std::vector<stdfs::path> out;
  for (const auto& c : stdfs::directory_iterator(root, ec))
    if (c.is_directory(ec)) out.push_back(c.path());
  return out;
}

}  // namespace

void require_root() {
  if (::geteuid() == 0) return;
  std::puts("SKIP: needs root");
  std::exit(4);
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string read_file(const stdfs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string host_cap_eff() {
  for (const auto& line : lines(read_file("/proc/self/status")))
    if (line.rfind("CapEff:", 0) == 0) return trim(line.substr(7));
  return "";
}

std::vector<std::string> mountinfo_lines_containing(const std::string& needle,
                                                    const std::string& pid) {
  std::vector<std::string> out;
  for (const auto& line : lines(read_file("/proc/" + pid + "/mountinfo")))
    if (contains(line, needle)) out.push_back(line);
  return out;
}

std::vector<stdfs::path> cgroup_dirs(const std::string& id) {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& tree : cgroup_trees())
    if (stdfs::is_directory(tree / "skiff" / id, ec)) out.push_back(tree / "skiff" / id);
  return out;
}

bool cgroup_v2() { return stdfs::exists(stdfs::path(kCgroupRoot) / "cgroup.controllers"); }

stdfs::path cgroup_file(const std::string& id, const std::string& v1_controller,
                        const std::string& v1_file, const std::string& v2_file) {
  const stdfs::path root = kCgroupRoot;
  return cgroup_v2() ? root / "skiff" / id / v2_file : root / v1_controller / "skiff" / id / v1_file;
}

double cgroup_cpu_seconds(const std::string& id) {
  auto text = read_file(cgroup_file(id, "cpuacct", "cpuacct.usage", "cpu.stat"));
  if (!cgroup_v2()) return std::stod(text) / 1e9;
  std::istringstream in(text);
  for (std::string key, value; in >> key >> value;)
    if (key == "usage_usec") return std::stod(value) / 1e6;
  throw std::runtime_error("no usage_usec in cpu.stat of " + id);
}

std::vector<stdfs::path> all_skiff_cgroup_dirs() {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& tree : cgroup_trees())
    for (const auto& d : stdfs::directory_iterator(tree / "skiff", ec))
      if (d.is_directory(ec)) out.push_back(d.path());
  return out;
}

std::vector<stdfs::path> abandoned(const std::vector<stdfs::path>& dirs) {
  auto empty = [](const std::vector<stdfs::path>& in) {
    std::vector<stdfs::path> out;
    for (const auto& d : in)
      if (stdfs::exists(d) && trim(read_file(d / "cgroup.procs")).empty()) out.push_back(d);
    return out;
  };
  auto suspects = empty(dirs);
  if (suspects.empty()) return suspects;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  return empty(suspects);
}

std::vector<std::string> command_lines_containing(const std::string& needle) {
  std::vector<std::string> out;
  std::error_code ec;
  const std::string self = std::to_string(::getpid());
  for (const auto& p : stdfs::directory_iterator("/proc", ec)) {
    if (p.path().filename() == self) continue;
    std::string cmd = read_file(p.path() / "cmdline");
    std::replace(cmd.begin(), cmd.end(), '\0', ' ');
    if (contains(cmd, needle)) out.push_back(p.path().filename().string() + ": " + trim(cmd));
  }
  return out;
}

}  // namespace it
