// tests/integration/harness_host.cpp — the harness's view of the host: its
// mount table, its cgroup tree, its processes. See harness.hpp.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"

namespace it {
namespace {

const char* const kCgroupRoot = "/sys/fs/cgroup";

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
  for (const auto& c : stdfs::directory_iterator(kCgroupRoot, ec))
    if (stdfs::is_directory(c.path() / "skiff" / id, ec)) out.push_back(c.path() / "skiff" / id);
  return out;
}

std::vector<stdfs::path> all_skiff_cgroup_dirs() {
  std::vector<stdfs::path> out;
  std::error_code ec;
  for (const auto& c : stdfs::directory_iterator(kCgroupRoot, ec))
    for (const auto& d : stdfs::directory_iterator(c.path() / "skiff", ec))
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
