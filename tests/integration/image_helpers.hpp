// tests/integration/image_helpers.hpp — what the image tests (import, save
// and load, commit, rmi…) share: a root filesystem to import, the lines of
// `skiff images`, and the store's files, which a refused command must leave
// as they were. Lesson: lessons/05-images.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "05-images/layer.hpp"
#include "harness.hpp"

namespace it {

// A tarball of the smallest root filesystem that runs a shell (busybox and
// bin/sh), then EXTRA.
std::string busybox_rootfs_tar(const std::vector<skiff::images::TarEntry>& extra = {});

// The line of `skiff images` that holds NEEDLE, or "".
std::string images_row(Sandbox& box, const std::string& needle);

// Every path under the store's images/ with its size (the lock file aside).
std::set<std::string> image_store_files(const Sandbox& box);

}  // namespace it
