// tests/docs/doctest_workspace.hpp — the private world one lesson runs in,
// and its teardown. A lesson must leave nothing behind on the machine, even
// when it fails half-way: containers, mounts and files are all removed by the
// destructor, which also runs when a Catch2 assertion throws.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::doctest {

class Workspace {
 public:
  // LESSON_DIR becomes $LESSON; BIN_DIR (the build's bin) goes first on PATH.
  Workspace(const std::filesystem::path& lesson_dir, const std::filesystem::path& bin_dir);
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  const std::filesystem::path& store() const { return store_; }  // $SKIFF_ROOT
  const std::filesystem::path& work() const { return work_; }    // the first cwd
  const std::filesystem::path& ctl() const { return ctl_; }      // the runner's files
  const std::vector<std::string>& env() const { return env_; }

 private:
  void remove_containers() const;

  std::filesystem::path base_, store_, work_, ctl_, skiff_;
  std::vector<std::string> env_;
};

// Detaches (umount2 MNT_DETACH) every mount at or under DIR, deepest first;
// returns how many remain (0 when all are gone).
int unmount_under(const std::filesystem::path& dir);

}  // namespace skiff::doctest
