// 11-security/privileged.cpp — see privileged.hpp.
#include "11-security/privileged.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <set>
#include <string>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/in_root.hpp"
#include "core/trace.hpp"

namespace skiff::security {
namespace {

namespace stdfs = std::filesystem;

// The container has its own of these (devpts, shm, mqueue, its terminal).
const std::set<std::string> kSkipped = {"pts", "shm", "mqueue", "console", "ptmx", "tty", "fd"};

// One host node copied into the directory DEV (an fd of the container's
// /dev); names are made relative to it, so nothing is followed.
void copy_node(const core::Fd& dev, const std::string& relative, const struct stat& st) {
  if (::mknodat(dev.get(), relative.c_str(), st.st_mode, st.st_rdev) < 0) {
    if (errno == EEXIST) return;  // one of our six
    throw core::SystemError(errno, "mknod(/dev/" + relative + ")");
  }
  ::fchownat(dev.get(), relative.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
}

void copy_dir(const core::Fd& dev, const stdfs::path& host_dir, const std::string& prefix) {
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(host_dir, ec)) {
    std::string name = e.path().filename().string();
    if (prefix.empty() && kSkipped.contains(name)) continue;
    struct stat st {};
    if (::lstat(e.path().c_str(), &st) < 0) continue;  // gone meanwhile
    std::string relative = prefix + name;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(dev.get(), relative.c_str(), st.st_mode & 07777) < 0 && errno != EEXIST)
        throw core::SystemError(errno, "mkdir(/dev/" + relative + ")");
      copy_dir(dev, e.path(), relative + "/");
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      copy_node(dev, relative, st);
    }
  }
}

}  // namespace

void add_host_devices(const std::filesystem::path& root) {
  core::Fd dev = core::resolve_in_root(core::open_root(root).get(), "/dev", core::Create::nothing,
                                       core::Symlinks::refuse);
  core::trace::call("mknod every device of the host's /dev under {root}/dev");
  mode_t old = ::umask(0);
  try {
    copy_dir(dev, "/dev", "");
  } catch (...) {
    ::umask(old);
    throw;
  }
  ::umask(old);
}

}  // namespace skiff::security
