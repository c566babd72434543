// 11-security/kernel_files.cpp — see kernel_files.hpp.
#include "11-security/kernel_files.hpp"

#include <sys/mount.h>
#include <sys/stat.h>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/in_root.hpp"
#include "core/sys.hpp"

namespace skiff::security {

namespace stdfs = std::filesystem;

const std::vector<std::string>& read_only_paths() {
  static const std::vector<std::string> paths = {
      "proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};
  return paths;
}

const std::vector<std::string>& masked_paths() {
  static const std::vector<std::string> paths = {
      "proc/acpi",       "proc/asound",      "proc/interrupts", "proc/kcore",
      "proc/keys",       "proc/latency_stats", "proc/sched_debug", "proc/scsi",
      "proc/timer_list", "proc/timer_stats", "sys/devices/virtual/powercap", "sys/firmware"};
  return paths;
}

namespace {

using core::Symlinks;

// Every path is looked up inside the root, and a symlink on the way is
// refused: /proc and /sys are the kernel's own (mounted by us a step
// earlier, never the image's), so a link there means something is wrong.
core::Fd find(const core::Fd& root, const std::string& path) {
  return core::resolve_if_exists(root.get(), "/" + path, Symlinks::refuse);
}

void make_read_only(const core::Fd& root, const std::string& path, const core::Fd& target) {
  std::string shown = "{root}/" + path;
  // A bind mount can only become read-only by a second, remounting call,
  // made on the new mount: looked up again, since TARGET holds what is under it.
  core::sys::mount_on_fd(core::fd_path(target), target.get(), shown, "", MS_BIND | MS_REC);
  core::Fd mounted = find(root, path);
  core::sys::mount_on_fd("", mounted.get(), shown, "",
                         MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

void mask(const core::Fd& root, const std::string& path, const core::Fd& target) {
  std::string shown = "{root}/" + path;
  struct stat st {};
  if (::fstat(target.get(), &st) < 0) throw core::SystemError(errno, "fstat(" + shown + ")");
  if (S_ISDIR(st.st_mode)) {
    core::sys::mount_on_fd("tmpfs", target.get(), shown, "tmpfs", MS_RDONLY, "size=0");
    return;
  }
  core::Fd null = find(root, "dev/null");
  if (!null.valid()) throw core::Error("cannot mask /" + path + ": the container has no /dev/null");
  core::sys::mount_on_fd(core::fd_path(null), target.get(), shown, "", MS_BIND);
}

}  // namespace

void protect_kernel_files(const stdfs::path& root) {
  core::Fd root_fd = core::open_root(root);
  for (const auto& p : read_only_paths())
    if (auto fd = find(root_fd, p); fd.valid()) make_read_only(root_fd, p, fd);
  for (const auto& p : masked_paths())
    if (auto fd = find(root_fd, p); fd.valid()) mask(root_fd, p, fd);
}

}  // namespace skiff::security
