// 05-images/export.hpp — `skiff export`: a container's files as one tar.
//
// Kernel concept: what a container sees at / is an overlayfs mount (its
//   image's layers under its own upper dir, see overlay.hpp), and that mount
//   exists only inside the container's mount namespace. To read the same
//   view from outside, skiff makes a second, read-only overlay of the same
//   directories — the container's upper dir as the top lower layer, so its
//   whiteouts still hide what it deleted — in a mount namespace of its own,
//   made by a child process for the purpose. When the child exits, the
//   namespace and the mount go with it: nothing is ever mounted on the host,
//   whatever happens. Volumes are not in the tar (Docker leaves them out too).
// Man pages: unshare(2), mount_namespaces(7), mount(8) "overlay",
//   archive_read_disk(3), tar(5). Docker: `docker export`.
// Runs in: the CLI, then a forked child in a new mount namespace.
// Privilege: CAP_SYS_ADMIN (unshare, mount), root to read every file.
// Lesson: lessons/05-images.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::images {

// Writes the merged view of LAYERS (bottom first) under UPPER as a plain tar
// to OUT_FD: every file, directory, link and device with its numeric owner,
// mode, times and xattrs; hard links as links. MOUNTPOINT is an empty
// directory (the container's merged/) that the read-only overlay is mounted
// on, in the child's namespace only. Works whether the container runs or
// not. Throws core::Error naming what failed.
void export_rootfs(const std::vector<std::filesystem::path>& layers,
                   const std::filesystem::path& upper, const std::filesystem::path& mountpoint,
                   int out_fd);

// The options of that read-only overlay: "lowerdir=UPPER:TOP:…:BOTTOM", no
// upperdir (hence read-only), no workdir. A layer directly inside
// RELATIVE_TO is named relative to it (the mount is made from there). Pure.
std::string readonly_overlay_options(const std::vector<std::filesystem::path>& layers,
                                     const std::filesystem::path& upper,
                                     const std::filesystem::path& relative_to = {});

}  // namespace skiff::images
