// 05-images/diff.hpp — a container's changes, as a layer: its upper dir → a tar.
//
// Kernel concept: overlayfs records every change a container makes in its
//   upper directory: a new or modified file is there whole (copied up), a
//   deleted one is a whiteout (a character device 0/0), a directory that
//   was deleted and made again is "opaque" (xattr trusted.overlay.opaque=y).
//   So the upper directory already *is* the diff `commit` needs; it only has
//   to be said in the OCI way (".wh.NAME", ".wh..wh..opq"; see layer.hpp).
// Spec: image-spec layer.md ("Representing Changes", "Whiteouts").
// Man pages: tar(5), archive_write(3), archive_read_disk(3), xattr(7).
// Runs in: the CLI (`skiff commit`), while the container is paused.
// Privilege: root (the upper dir and the trusted.* xattrs are root's).
// Lesson: lessons/05-images ("commit: a container becomes an image").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "05-images/layer.hpp"

namespace skiff::images {

// Writes the changes in UPPER (an overlayfs upper directory) to the new file
// OUT as an uncompressed tar, in name order, and returns the tar's digest
// (which is also the layer's diff_id) and size. Kept: owners (as numbers),
// modes, mtimes, xattrs except trusted.overlay.*, hard links, symlinks,
// fifos, devices. Sockets are left out (tar cannot hold them). A missing
// UPPER gives an empty layer. Throws core::Error naming what it could not
// read; OUT is then removed. The paths of PLACEHOLDERS ("etc/hostname") are
// left out when they are empty: mount points the runtime made, not changes.
DiffId write_layer_from_upper(const std::filesystem::path& upper, const std::filesystem::path& out,
                              const std::vector<std::string>& placeholders = {});

}  // namespace skiff::images
