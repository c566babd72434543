// 11-security/kernel_files.cpp — see kernel_files.hpp.
#include "11-security/kernel_files.hpp"

#include <sys/mount.h>

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

void make_read_only(const stdfs::path& path) {
  // A bind mount can only become read-only by a second, remounting call.
  core::sys::mount(path, path, "", MS_BIND | MS_REC);
  core::sys::mount(path, path, "", MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV |
                                       MS_NOEXEC);
}

void mask(const stdfs::path& root, const stdfs::path& path) {
  if (stdfs::is_directory(path))
    core::sys::mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0");
  else
    core::sys::mount(root / "dev/null", path, "", MS_BIND);
}

}  // namespace

void protect_kernel_files(const stdfs::path& root) {
  std::error_code ec;
  for (const auto& p : read_only_paths())
    if (stdfs::exists(root / p, ec)) make_read_only(root / p);
  for (const auto& p : masked_paths())
    if (stdfs::exists(root / p, ec)) mask(root, root / p);
}

}  // namespace skiff::security
