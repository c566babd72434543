// 11-security/kernel_files.hpp — /proc and /sys files a container must not change.
//
// Kernel concept: /proc and /sys are windows onto the one kernel every
//   container shares. A namespace hides some of it (pids, mounts), but files
//   like /proc/sys/vm/swappiness or /proc/sysrq-trigger still act on the
//   whole machine, and /proc/kcore or /proc/keys reveal it. So, as Docker
//   does, skiff makes the first kind read-only (a read-only bind mount of
//   the path onto itself) and masks the second (/dev/null bound over a file,
//   an empty read-only tmpfs over a directory).
// Man pages: proc(5), sysfs(5), mount(2) MS_BIND|MS_REMOUNT|MS_RDONLY.
// Runs in: the child, after /proc and /sys are mounted, before pivot_root.
// Privilege: CAP_SYS_ADMIN (which the container then loses).
// Lesson: lessons/11-security.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::security {

// Relative to the container's root. Pure lists, Docker's defaults.
const std::vector<std::string>& read_only_paths();
const std::vector<std::string>& masked_paths();

// Applies both lists under ROOT; a path this kernel does not have is skipped.
void protect_kernel_files(const std::filesystem::path& root);

}  // namespace skiff::security
