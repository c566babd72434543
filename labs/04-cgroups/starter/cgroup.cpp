// labs/04-cgroups/starter/cgroup.cpp — your part of cglimit.
//
// Read cgroup.hpp first: it says what each function must achieve, the files
// and their order, and gives you cgroup_dirs(), check(), write_file() and
// remove_dir(). Try it by hand: `cglimit plan v2 a/b --cpus 0.5`.
// Build and grade:   make grade LAB=04 SRC=path/to/your/folder
#include "cgroup.hpp"

#include <sys/stat.h>

#include <filesystem>

namespace lab {

std::vector<Write> plan(Version version, const std::string& name, const Limits& limits) {
  // TODO(part 1): one Write per file, in the header's order; none for a 0.
  //   v1: {"memory/NAME", "memory.limit_in_bytes", bytes}, the two cpu.cfs_*
  //       files (period first; quota = nano_cpus × period / 10⁹), pids.max;
  //   v2: cgroup.subtree_control of "" and of every parent of NAME
  //       (std::filesystem::path(name).parent_path() walks them), then
  //       memory.max, cpu.max "QUOTA PERIOD", pids.max in NAME.
  (void)version, (void)name, (void)limits;
  return {};
}

void apply(const std::string& root, Version version, const std::string& name, const Limits& limits) {
  // TODO(part 2): mkdir every ROOT/dir of cgroup_dirs() (check() it, and
  // remember what you made), then write_file(ROOT/dir/file, value) for each
  // write of plan(). If anything throws: remove_dir() what you made, newest
  // first, and rethrow (`throw;`).
  (void)root, (void)version, (void)name, (void)limits;
}

void remove(const std::string& root, Version version, const std::string& name) {
  // TODO(part 3): remove_dir() every directory of cgroup_dirs().
  (void)root, (void)version, (void)name;
}

}  // namespace lab
