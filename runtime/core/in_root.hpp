// core/in_root.hpp — paths inside the container's root, resolved where no
// symlink of the image can take them out.
//
// Kernel concept: the image is written by whoever built it. If it holds
//   /etc → /home/alice/.ssh, then "ROOT/etc/hostname" is, for the host's
//   path lookup, a file in alice's home: a naive open or mount of
//   ROOT + "/etc/hostname" writes on the host. Every path inside the root
//   has to be looked up the way the container will see it, with ROOT as
//   "/": a symlink to "/etc" means ROOT/etc, and ".." stops at ROOT.
//   openat2(2) with RESOLVE_IN_ROOT does exactly that in the kernel; we walk
//   the path one component at a time with it, so that we can also create
//   the missing parts (mkdirat(2) relative to a directory fd, never a path),
//   and end with an O_PATH fd of the target. A mount is then made on
//   /proc/self/fd/N: the kernel mounts on what the fd holds, and nobody can
//   swap a component for a symlink between our check and the mount.
//   Every mount target of the pipeline goes through here: volumes (lesson
//   06), /proc /dev /sys (02), /etc/hostname and /etc/hosts (03), the
//   terminal, the masked and read-only kernel files (11).
// Man pages: openat2(2) (RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS), openat(2)
//   (O_PATH, O_NOFOLLOW, O_EXCL), mkdirat(2), readlinkat(2), fstatfs(2),
//   path_resolution(7).
// Runs in: the child, before pivot_root (also unit-tested on a temp tree).
// Privilege: none beyond access to the tree.
// Lessons: lessons/06-volumes (the walk), lessons/11-security (why all of them).
#pragma once

#include <string>

#include "core/fd.hpp"

namespace skiff::core {

// What to make when the target does not exist yet.
enum class Create { nothing, directory, file };
// What a symlink on the way means: followed (inside the root), or refused
// (a mount point that must be a real directory, as /proc must).
enum class Symlinks { follow, refuse };

// Resolves PATH (absolute, as seen inside the container) under the
// directory ROOT_FD as if ROOT_FD were "/": symlinks are followed but can
// never leave the root, ".." stops at it. Missing components are made
// (directories; the last one a directory or an empty file, as CREATE says).
// Returns an O_PATH fd of the target. Throws core::Error naming PATH when
// the target cannot exist (a component is a file, too many symlinks), or
// with Symlinks::refuse when a component is a symlink.
Fd resolve_in_root(int root_fd, const std::string& path, Create create,
                   Symlinks symlinks = Symlinks::follow);

// The same, but an absent target gives an invalid Fd instead of an error
// (the kernel files this kernel does not have).
Fd resolve_if_exists(int root_fd, const std::string& path, Symlinks symlinks = Symlinks::follow);

// The path inside the root that PATH resolves to, with every symlink
// followed: "/data" → "/etc" for a link /data → ../../etc. No component
// is created. For tests and --explain.
std::string resolved_path(int root_fd, const std::string& path);

// "/proc/self/fd/N": a path the kernel resolves straight to what FD holds.
std::string fd_path(const Fd& fd);

// An O_PATH fd of ROOT, the anchor of every lookup above.
Fd open_root(const std::string& root);

// True when FD lies on a proc or sysfs filesystem: the kernel's windows,
// where no file of ours may be mounted (runc and Docker refuse it too).
bool on_kernel_fs(const Fd& fd);

// Creates NAME in the directory DIR_FD with O_CREAT|O_EXCL|O_NOFOLLOW: a
// file that is new, never one an image prepared (or a symlink it planted).
// Returns an O_RDWR fd of it.
Fd create_new_file(int dir_fd, const std::string& name, mode_t mode);

}  // namespace skiff::core
