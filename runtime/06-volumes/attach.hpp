// 06-volumes/attach.hpp — the child's step: volumes, binds and tmpfs
// mounted into the container's root; the root made read-only.
//
// Kernel concept: each mount is made in the container's own mount namespace
//   (made private by 03-namespaces), so the host never sees it and the
//   namespace takes it along when the container ends. Each target is found
//   with resolve_in_root (core/in_root.hpp) and mounted through its fd, so a
//   symlink in the image cannot send a mount onto the host's files.
//   An empty volume mounted over a directory of the image that has content
//   is first filled with that content ("copy-up", as Docker does), owners
//   and modes kept, so `-v data:/etc` starts with the image's /etc.
//   --read-only remounts the root's own mount read-only (MS_REMOUNT|MS_BIND|
//   MS_RDONLY changes that one mount, not those on top of it): the volumes
//   and tmpfs mounted on it stay writable.
// Man pages: mount(2), mount_namespaces(7), statvfs(3), lchown(2).
// Runs in: the child, after the root and /proc /dev /sys are mounted,
//   before pivot_root.
// Privilege: CAP_SYS_ADMIN (mount), CAP_CHOWN and CAP_FOWNER (copy-up).
// Lesson: lessons/06-volumes.
#pragma once

#include <filesystem>
#include <vector>

#include "06-volumes/mounts.hpp"

namespace skiff::volumes {

// Mounts MOUNTS (in the order volumes::ordered gives) under ROOT. With
// USERNS (a user namespace fd, --userns=remap), volumes are mounted
// idmapped, so that root inside owns what root owns on disk.
void mount_all(const std::filesystem::path& root, const std::vector<Mount>& mounts, int userns = -1);

// Makes the mount at ROOT read-only, keeping its other flags.
void make_read_only(const std::filesystem::path& root);

}  // namespace skiff::volumes
