// tests/unit/test_layer_overlay.cpp — how many layers overlayfs can stack,
// and why (lesson 05-images, overlay.hpp): mount(2)'s options fit in one
// page, so 60 layers named by full paths fail, the same 60 named by short
// links mount, and so do 500 (the fallback Debian 12's 6.1 takes), and the
// new mount API ("lowerdir+" one at a time) stacks 120. Needs root to mount; skips without it. Every mount is
// undone (MNT_DETACH) when the test ends, even when it fails.
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "05-images/oci.hpp"
#include "05-images/overlay.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace images = skiff::images;
namespace stdfs = std::filesystem;
using skiff::testing::TempDir;

namespace {

struct Stack {
  TempDir tmp{"skiff-overlay"};
  std::vector<stdfs::path> layers;
  explicit Stack(int n) {
    for (int i = 0; i < n; ++i) {
      // named like the store's layers: 64 hex digits
      auto dir = tmp.path() / "layers" / images::oci::sha256_hex(std::to_string(i));
      stdfs::create_directories(dir);
      skiff::core::fs::write_file_atomic(dir / ("f" + std::to_string(i)), std::to_string(i));
    }
    for (const auto& e : stdfs::directory_iterator(tmp.path() / "layers")) layers.push_back(e.path());
    for (const char* d : {"upper", "work", "merged"}) stdfs::create_directory(tmp.path() / d);
  }
  stdfs::path upper() const { return tmp.path() / "upper"; }
  stdfs::path work() const { return tmp.path() / "work"; }
  stdfs::path merged() const { return tmp.path() / "merged"; }
  size_t files_seen() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(merged())) ++n;
    return n;
  }
};

// Unmounts TARGET when the test ends, whatever happened.
struct Unmount {
  stdfs::path target;
  ~Unmount() { ::umount2(target.c_str(), MNT_DETACH); }
};

bool is_root() { return ::geteuid() == 0; }

}  // namespace

TEST_CASE("mount(2) holds 60 layers only when they are named by short links, and then 500") {
  if (!is_root()) {
    WARN("SKIP: mounting overlayfs needs root");
    return;
  }
  Stack s(60);
  Unmount guard{s.merged()};
  std::string full = images::overlay_options(s.layers, s.upper(), s.work());
  REQUIRE(full.size() > 4096);  // one page: what mount(2) passes on
  CHECK_THROWS(images::mount_overlay_legacy(s.layers, s.upper(), s.work(), s.merged(), false));
  CHECK(s.files_seen() == 0);
  images::mount_overlay_legacy(s.layers, s.upper(), s.work(), s.merged(), true);
  CHECK(s.files_seen() == 60);
  ::umount2(s.merged().c_str(), MNT_DETACH);
  // overlayfs' own limit, through one page: what Debian 12's 6.1 needs.
  Stack most(images::kMaxOverlayLayers);
  Unmount guard_most{most.merged()};
  images::mount_overlay_legacy(most.layers, most.upper(), most.work(), most.merged(), true);
  CHECK(most.files_seen() == images::kMaxOverlayLayers);
  CHECK(stdfs::is_symlink(most.tmp.path() / "layer-links" / "499"));
}

TEST_CASE("the new mount API stacks 120 layers, and more than 500 are refused") {
  if (!is_root()) {
    WARN("SKIP: mounting overlayfs needs root");
    return;
  }
  {
    Stack s(120);
    Unmount guard{s.merged()};
    images::mount_overlay(s.layers, s.upper(), s.work(), s.merged());
    CHECK(s.files_seen() == 120);
  }
  std::vector<stdfs::path> too_many(images::kMaxOverlayLayers + 1, "/nonexistent");
  try {
    images::mount_overlay(too_many, "/u", "/w", "/m");
    FAIL("501 layers were accepted");
  } catch (const skiff::core::Error& e) {
    CHECK(std::string(e.what()) == "the image has 501 layers; overlayfs stacks at most 500");
  }
}
