// 11-security/sealed_exe.cpp — see sealed_exe.hpp.
#include "11-security/sealed_exe.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/error.hpp"
#include "core/trace.hpp"

extern char** environ;

namespace skiff::security {
namespace {

namespace stdfs = std::filesystem;

// Set for the re-executed process: the host path of the binary it came
// from (/proc/self/exe no longer names it).
constexpr const char* kMarker = "SKIFF_SEALED_FROM";
// Overlayfs runs without an upper layer only with two lower ones: the
// binary's directory on top of this empty one.
constexpr const char* kEmptyLower = "/run/skiff/sealed-lower";

std::string g_host_binary;  // set once, at start
char** g_argv = nullptr;

// overlayfs reads ':' as a layer separator and '\' as its escape.
std::string escape_layer(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

int fsconfig(int fd, unsigned cmd, const char* key, const char* value) {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, 0));
}

std::string real_binary() {
  std::error_code ec;
  auto exe = stdfs::read_symlink("/proc/self/exe", ec);
  if (ec) throw core::SystemError(ec.value(), "readlink(/proc/self/exe)");
  return exe.string();
}

}  // namespace

core::Fd overlay_view(const stdfs::path& binary) {
  std::error_code ec;
  stdfs::create_directories(kEmptyLower, ec);
  core::Fd ctx(static_cast<int>(::syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC)));
  if (!ctx.valid()) throw core::SystemError(errno, "fsopen(overlay)");
  std::string lower = escape_layer(binary.parent_path().string()) + ":" + escape_layer(kEmptyLower);
  if (fsconfig(ctx.get(), FSCONFIG_SET_STRING, "lowerdir", lower.c_str()) < 0)
    throw core::SystemError(errno, "fsconfig(overlay, lowerdir=" + lower + ")");
  // Inode numbers are of no interest here; xino would only log warnings.
  fsconfig(ctx.get(), FSCONFIG_SET_STRING, "xino", "off");
  if (fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr) < 0)
    throw core::SystemError(errno, "fsconfig(overlay, FSCONFIG_CMD_CREATE) for the binary's view");
  core::Fd mnt(static_cast<int>(::syscall(SYS_fsmount, ctx.get(), FSMOUNT_CLOEXEC,
                                          MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID)));
  if (!mnt.valid()) throw core::SystemError(errno, "fsmount(overlay view of " + binary.string() + ")");
  // The mount is never attached anywhere: it lives as long as an fd or a
  // process's exe holds it.
  std::string name = binary.filename().string();
  core::Fd exe(::openat(mnt.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!exe.valid()) throw core::SystemError(errno, "open(" + name + " in the overlay view)");
  return exe;
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3: executable even under vm.memfd_noexec=1
#endif

core::Fd executable_memfd(const char* name) {
  int fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  if (fd < 0 && errno == EINVAL)  // before Linux 6.3, every memfd is executable
    fd = ::memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) throw core::SystemError(errno, std::string("memfd_create(") + name + ")");
  return core::Fd(fd);
}

void seal_for_good(int memfd) {
  if (::fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
    throw core::SystemError(errno, "fcntl(memfd, F_ADD_SEALS)");
}

core::Fd sealed_copy(const stdfs::path& binary) {
  core::Fd in(::open(binary.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) throw core::SystemError(errno, "open(" + binary.string() + ")");
  struct stat st {};
  if (::fstat(in.get(), &st) < 0) throw core::SystemError(errno, "fstat(" + binary.string() + ")");
  core::Fd memfd = executable_memfd("skiff");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = ::sendfile(memfd.get(), in.get(), &done, static_cast<size_t>(st.st_size - done));
    if (n <= 0) throw core::SystemError(n < 0 ? errno : EIO, "sendfile(" + binary.string() + " → memfd)");
  }
  seal_for_good(memfd.get());
  return memfd;
}

bool running_sealed() {
  struct statfs fs {};
  if (::statfs("/proc/self/exe", &fs) == 0 && fs.f_type == OVERLAYFS_SUPER_MAGIC &&
      (fs.f_flags & ST_RDONLY))
    return true;
  core::Fd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  int seals = exe.valid() ? ::fcntl(exe.get(), F_GET_SEALS) : -1;
  return seals >= 0 && (seals & F_SEAL_WRITE);
}

void remember_command_line(char** argv) { g_argv = argv; }

void run_from_sealed_binary() {
  if (const char* from = std::getenv(kMarker)) {
    if (!running_sealed())
      throw core::Error("re-executed from a view of " + std::string(from) + " that is not read-only");
    g_host_binary = from;
    ::unsetenv(kMarker);  // the monitor and the container need none of it
    return;
  }
  core::trace::Step step("11-security", "run skiff from a read-only view of its binary (CVE-2019-5736)");
  std::string binary = real_binary();
  core::Fd view;
  try {
    view = overlay_view(binary);
  } catch (const core::SystemError&) {
    view = sealed_copy(binary);  // no overlayfs here: a copy, sealed
  }
  core::trace::call("execveat(" + binary + " through a lower-only overlay, AT_EMPTY_PATH)");
  ::setenv(kMarker, binary.c_str(), 1);
  if (!g_argv) throw core::Error("run_from_sealed_binary: no command line to run again");
  ::syscall(SYS_execveat, view.get(), "", g_argv, environ, AT_EMPTY_PATH);
  int err = errno;
  ::unsetenv(kMarker);
  throw core::Error("cannot run skiff from a read-only view of " + binary + ": " +
                    std::system_category().message(err) +
                    " (refusing to start a container from the host's own file)");
}

stdfs::path host_binary_dir() {
  return stdfs::path(g_host_binary.empty() ? real_binary() : g_host_binary).parent_path();
}

}  // namespace skiff::security
