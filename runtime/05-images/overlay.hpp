// 05-images/overlay.hpp — a container's root: image layers + its own changes.
//
// Kernel concept: overlayfs merges read-only "lower" directories (the image
//   layers, shared by every container of the image) under one writable
//   "upper" directory (this container's changes). A write to a lower file
//   first copies it up; a deletion leaves a whiteout in upper.
// Man pages: mount(8) "overlay", the kernel's filesystems/overlayfs.rst.
// Runs in: the child, in its own mount namespace, so the mount disappears
//   with the container and the host never sees it (except in --upto chroot,
//   where there is no mount namespace and skiff unmounts it afterwards).
// Privilege: CAP_SYS_ADMIN.
// Lesson: lessons/05-images.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace skiff::images {

// The mount option string: "lowerdir=TOP:…:BOTTOM,upperdir=…,workdir=…".
// Overlayfs lists lower layers top first; LAYERS is bottom first, as images
// store them. Pure.
std::string overlay_options(const std::vector<std::filesystem::path>& layers,
                            const std::filesystem::path& upper,
                            const std::filesystem::path& work);

void mount_overlay(const std::vector<std::filesystem::path>& layers,
                   const std::filesystem::path& upper, const std::filesystem::path& work,
                   const std::filesystem::path& target);

}  // namespace skiff::images
