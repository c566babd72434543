// tests/unit/test_import.cpp — the pure parts of `skiff import` (lesson
// 00-why-containers, 05-images): which media type a tarball gets, and the
// config an imported image carries. No root needed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "05-images/import.hpp"
#include "05-images/layer.hpp"
#include "05-images/oci.hpp"

namespace images = skiff::images;
namespace oci = skiff::images::oci;

TEST_CASE("an imported layer is typed by its first bytes: gzip or plain tar") {
  std::string tar = images::write_tar({images::TarEntry::file("hello", "hi\n", 0644)});
  CHECK(images::layer_media_type(tar) == oci::kLayerTarType);
  CHECK(images::layer_media_type(images::gzip_deterministic(tar)) == oci::kLayerGzipType);
  CHECK(images::layer_media_type("") == oci::kLayerTarType);
  CHECK(images::layer_media_type("\x1f") == oci::kLayerTarType);
}

TEST_CASE("an imported image has the default PATH, no command, one layer") {
  auto j = images::imported_config_json("sha256:abc", "2024-05-01T12:00:00.000000001Z", "amd64",
                                        "rootfs.tar");
  CHECK(j["created"] == "2024-05-01T12:00:00.000000001Z");
  CHECK(j["architecture"] == "amd64");
  CHECK(j["os"] == "linux");
  CHECK(j["config"]["Env"] ==
        nlohmann::json{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  CHECK_FALSE(j["config"].contains("Cmd"));
  CHECK_FALSE(j["config"].contains("Entrypoint"));
  CHECK(j["rootfs"]["diff_ids"] == nlohmann::json{"sha256:abc"});
  CHECK(j["history"][0]["comment"] == "Imported from rootfs.tar");
}
