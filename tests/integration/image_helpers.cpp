// tests/integration/image_helpers.cpp — see image_helpers.hpp.
#include "image_helpers.hpp"

#include "05-images/images.hpp"
#include "core/fs.hpp"

namespace it {

namespace images = skiff::images;

std::string busybox_rootfs_tar(const std::vector<images::TarEntry>& extra) {
  std::vector<images::TarEntry> entries = {
      images::TarEntry::directory("bin", 0755),
      images::TarEntry::file("bin/busybox", skiff::core::fs::read_file(images::kBusyboxBinary), 0755),
      images::TarEntry::symlink("bin/sh", "busybox")};
  entries.insert(entries.end(), extra.begin(), extra.end());
  return images::write_tar(entries);
}

std::string images_row(Sandbox& box, const std::string& needle) {
  for (const auto& line : lines(box.run({"images"}).out))
    if (contains(line, needle)) return line;
  return "";
}

std::set<std::string> image_store_files(const Sandbox& box) {
  std::set<std::string> out;
  for (const auto& e : stdfs::recursive_directory_iterator(box.root() / "images")) {
    std::string size = e.is_regular_file() ? std::to_string(e.file_size()) : "";
    if (e.path().filename() != "lock") out.insert(e.path().string() + " " + size);
  }
  return out;
}

}  // namespace it
