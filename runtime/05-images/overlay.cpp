// 05-images/overlay.cpp — see overlay.hpp.
#include "05-images/overlay.hpp"

#include "core/sys.hpp"

namespace skiff::images {

std::string overlay_options(const std::vector<std::filesystem::path>& layers,
                            const std::filesystem::path& upper,
                            const std::filesystem::path& work) {
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    if (!lower.empty()) lower += ':';
    lower += it->string();
  }
  // The whole string must fit in one page: images with many layers need
  // shorter paths (lesson 05 shows how runtimes work around it).
  return "lowerdir=" + lower + ",upperdir=" + upper.string() + ",workdir=" + work.string();
}

void mount_overlay(const std::vector<std::filesystem::path>& layers,
                   const std::filesystem::path& upper, const std::filesystem::path& work,
                   const std::filesystem::path& target) {
  core::sys::mount("overlay", target, "overlay", 0, overlay_options(layers, upper, work));
}

}  // namespace skiff::images
