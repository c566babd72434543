// tests/integration/test_layers_many.cpp — an image of 100 layers runs
// (lesson 05-images, "why 40 layers broke"): mount(2)'s one page of options
// holds about 40 layer paths, so skiff hands overlayfs one "lowerdir+" at a
// time. The image is built here, straight into the test's store as an OCI
// layout: the built-in busybox, then 100 tiny layers, each adding a file;
// layer 60 deletes the file of layer 30 with a whiteout; every tenth layer
// is zstd-compressed (tar+zstd). Then which mount path the kernel took:
// "lowerdir+" from Linux 6.8, mount(2) through short links before. Needs root.
#include <sys/utsname.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "05-images/oci.hpp"
#include "harness.hpp"

namespace images = skiff::images;
namespace oci = skiff::images::oci;
using json = nlohmann::json;
using it::contains;

namespace {

constexpr int kLayers = 100;

// Busybox plus kLayers layers, named NAME; only busybox's layer is unpacked.
void build_many_layers(const std::filesystem::path& images_dir, const std::string& name) {
  images::Store(images_dir).ensure_builtin_busybox();
  oci::Layout layout(images_dir);
  json manifest, config;
  for (const auto& d : layout.read_index())
    if (d.ref_name() == "docker.io/library/busybox:latest") {
      manifest = json::parse(layout.read_blob(d));
      config = json::parse(layout.read_blob(oci::descriptor_from_json(manifest["config"])));
    }
  REQUIRE(manifest.is_object());
  for (int i = 0; i < kLayers; ++i) {
    std::vector<images::TarEntry> entries = {
        images::TarEntry::directory("many", 0755),
        images::TarEntry::file("many/f" + std::to_string(i), std::to_string(i) + "\n", 0644)};
    if (i == 60) entries.push_back(images::TarEntry::file("many/.wh.f30", "", 0644));
    // Every tenth layer is zstd-compressed: its diff_id is still the
    // digest of the tar inside.
    std::string tar = images::write_tar(entries);
    auto layer = i % 10 == 5 ? layout.put_blob(oci::kLayerZstdType, images::zstd_compress(tar))
                             : layout.put_blob(oci::kLayerTarType, tar);
    manifest["layers"].push_back(oci::descriptor_to_json(layer));
    config["rootfs"]["diff_ids"].push_back("sha256:" + oci::sha256_hex(tar));
  }
  auto c = layout.put_blob(oci::kConfigType, config.dump());
  manifest["config"] = oci::descriptor_to_json(c);
  auto m = layout.put_blob(oci::kManifestType, manifest.dump());
  layout.set_ref(m, "docker.io/library/" + name + ":latest");
}

}  // namespace

TEST_CASE("an image of 100 layers runs and sees every layer, whiteouts included", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("many");
  build_many_layers(box.root() / "images", name);
  // `run` unpacks the 100 new layers itself (the zstd ones included).
  auto r = box.run({"run", "--rm", name, "sh", "-c",
                    "ls /many | wc -l; cat /many/f0 /many/f59 /many/f99; "
                    "test -e /many/f30 && echo f30-present || echo f30-gone"});
  INFO("stderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "99\n0\n59\n99\nf30-gone\n");
  auto image = images::Store(box.root() / "images").find(name);
  REQUIRE(image);
  CHECK(image->layers.size() == static_cast<size_t>(kLayers + 1));

  // Which way the kernel took: "lowerdir+" one layer a call from Linux 6.8
  // (this host, Debian's 6.12), else one mount(2) from a folder of short
  // links, top layer "0" (Debian 12's 6.1). The micro-VM tests see both.
  auto explained = box.run({"--explain", "run", "--rm", name, "true"});
  REQUIRE(explained.code == 0);
  struct utsname u {};
  REQUIRE(::uname(&u) == 0);
  int major = 0, minor = 0;
  REQUIRE(std::sscanf(u.release, "%d.%d", &major, &minor) == 2);
  INFO("kernel " << u.release << "; --explain said:\n" << explained.err);
  if (major > 6 || (major == 6 && minor >= 8)) {
    CHECK(contains(explained.err, "fsconfig(overlay, lowerdir+="));
    CHECK_FALSE(contains(explained.err, "\"lowerdir="));  // no mount(2) option string
  } else {
    CHECK(contains(explained.err, "\"lowerdir=0:1:2:"));
    CHECK(contains(explained.err, ":" + std::to_string(kLayers) + ",upperdir="));
  }
}
