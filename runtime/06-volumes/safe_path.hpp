// 06-volumes/safe_path.hpp — finding a mount's target inside the container's
// root, where no symlink of the image can take it out.
//
// Kernel concept: the image is written by whoever built it. If it holds
//   /data → /etc, then "ROOT/data" is, for the host's path lookup, the
//   host's /etc: a naive mount(…, ROOT + "/data") would cover the host's
//   /etc (in our mount namespace; with a bind source, on the host's disk).
//   The target has to be looked up the way the container will see it, with
//   ROOT as "/": a symlink to "/etc" means ROOT/etc, and ".." stops at ROOT.
//   openat2(2) with RESOLVE_IN_ROOT does exactly that in the kernel; we walk
//   the path one component at a time with it, so that we can also create
//   the missing parts (mkdirat(2) relative to a directory fd, never a path),
//   and end with an O_PATH fd of the target. The mount is then made on
//   /proc/self/fd/N: the kernel mounts on what the fd holds, and nobody can
//   swap a component for a symlink between our check and the mount.
// Man pages: openat2(2) (RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS), openat(2)
//   (O_PATH, O_NOFOLLOW), mkdirat(2), readlinkat(2), path_resolution(7).
// Runs in: the child, before pivot_root (also unit-tested on a temp tree).
// Privilege: none beyond access to the tree.
// Lesson: lessons/06-volumes.
#pragma once

#include <string>

#include "core/fd.hpp"

namespace skiff::volumes {

// What to make when the target does not exist yet.
enum class Create { nothing, directory, file };

// Resolves PATH (absolute, as seen inside the container) under the
// directory ROOT_FD as if ROOT_FD were "/": symlinks are followed but can
// never leave the root, ".." stops at it. Missing components are made
// (directories; the last one a directory or an empty file, as CREATE says).
// Returns an O_PATH fd of the target. Throws core::Error naming PATH when
// the target cannot exist (a component is a file, too many symlinks).
core::Fd resolve_in_root(int root_fd, const std::string& path, Create create);

// The path inside the root that PATH resolves to, with every symlink
// followed: "/data" → "/etc" for a link /data → ../../etc. No component
// is created. For tests and --explain.
std::string resolved_path(int root_fd, const std::string& path);

// "/proc/self/fd/N": a path the kernel resolves straight to what FD holds.
std::string fd_path(const core::Fd& fd);

}  // namespace skiff::volumes
