// 06-volumes/attach.cpp — see attach.hpp.
#include "06-volumes/attach.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "06-volumes/copy_up.hpp"
#include "core/in_root.hpp"
#include "core/error.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::volumes {
namespace {

namespace stdfs = std::filesystem;
using core::Create;
using core::fd_path;
using core::resolve_in_root;

// Docker's copy-up: an empty volume over a directory of the image that has
// content starts as a copy of it. Once it holds anything, it is left alone.
// Both sides are reached through fds (copy_up.hpp): the volume may already
// be in use by a running container that could race a symlink into it.
// VOLUME_DIR: where to copy (the volume's directory, or the root of its
// idmapped view, through which owners are written as the container sees them).
void copy_up(const core::Fd& target, const Mount& m, int volume_dir) {
  if (!m.copy_up || !m.fstype.empty()) return;
  core::Fd image_dir(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  core::Fd volume(::openat(volume_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!image_dir.valid() || !volume.valid()) return;  // a file bind, or nothing to copy
  if (!empty_directory(volume.get()) || empty_directory(image_dir.get())) return;
  core::trace::call("copy-up " + m.destination + " of the image → " + m.source);
  copy_tree(image_dir.get(), volume.get());
}

// The per-mount flags the kernel holds for the mount at PATH: a remount
// replaces them all, so the ones to keep are passed again.
unsigned long mount_flags_of(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) < 0) throw core::SystemError(errno, "statvfs(" + path + ")");
  unsigned long flags = 0;
  if (vfs.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (vfs.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (vfs.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (vfs.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (vfs.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (vfs.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

void remount_read_only(const std::string& path) {
  core::sys::mount("", path, "", MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags_of(path));
}

// The container's /proc is the kernel's window on it: Docker refuses a
// mount there, and so do we, wherever a symlink pointed the target.
void refuse_proc(const stdfs::path& root, const core::Fd& target, const Mount& m) {
  auto where = stdfs::read_symlink(fd_path(target)).string();
  auto proc = (root / "proc").string();
  if (where == proc || where.rfind(proc + "/", 0) == 0)
    throw core::Error("invalid mount config: " + m.destination +
                      " cannot be mounted because it is located inside \"/proc\"");
}

Create target_kind(const Mount& m) {
  if (m.kind != Kind::bind) return Create::directory;
  return stdfs::is_directory(m.source) ? Create::directory : Create::file;
}

// A volume of a remapped container (--userns=remap, lesson 11): an idmapped
// view of its directory, filled (copy-up) through that view and attached.
void mount_idmapped_volume(const core::Fd& target, const Mount& m, int userns) {
  core::Fd view(core::sys::clone_mount(m.source, userns, false, true));
  copy_up(target, m, view.get());
  core::sys::move_mount_onto(view.get(), target.get(), "{root}" + m.destination);
}

void mount_one(const stdfs::path& root, const core::Fd& root_fd, const Mount& m, int userns) {
  core::Fd target = resolve_in_root(root_fd.get(), m.destination, target_kind(m));
  refuse_proc(root, target, m);
  auto call = plan_mount(m);
  if (m.kind == Kind::volume && m.fstype.empty() && userns >= 0) {
    mount_idmapped_volume(target, m, userns);
  } else {
    if (m.kind == Kind::volume) {
      core::Fd volume(::open(m.source.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (volume.valid()) copy_up(target, m, volume.get());
    }
    core::sys::mount(call.source, fd_path(target), call.fstype, call.flags, call.data);
  }
  if (!call.remount_read_only) return;
  // TARGET still names the directory under the new mount; looking the
  // path up again lands on the new mount's root, which is what to change.
  core::Fd mounted = resolve_in_root(root_fd.get(), m.destination, Create::nothing);
  remount_read_only(fd_path(mounted));
}

}  // namespace

void mount_all(const stdfs::path& root, const std::vector<Mount>& mounts, int userns) {
  core::Fd root_fd = core::open_root(root);
  for (const auto& m : mounts) {
    try {
      mount_one(root, root_fd, m, userns);
    } catch (const core::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw core::Error("mount " + to_string(m.kind) + " on " + m.destination + ": " + e.what());
    }
  }
}

void make_read_only(const stdfs::path& root) { remount_read_only(root.string()); }

}  // namespace skiff::volumes
