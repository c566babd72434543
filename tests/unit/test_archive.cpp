// tests/unit/test_archive.cpp — the pure parts of `skiff save`, `load` and
// `export` (lesson 05-images): the JSON an archive carries, the names its
// index gives, paths and links that must stay inside it, the read-only
// overlay export mounts. No root needed.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "05-images/archive.hpp"
#include "05-images/export.hpp"
#include "05-images/oci.hpp"

namespace images = skiff::images;
namespace oci = skiff::images::oci;
using json = nlohmann::json;

namespace {

std::string digest(char c) { return "sha256:" + std::string(64, c); }

images::ArchivedImage busybox_image() {
  images::ArchivedImage image;
  image.config = {oci::kConfigType, digest('c'), 397, {}};
  image.layers = {{oci::kLayerTarType, digest('1'), 1024, {}}, {oci::kLayerTarType, digest('2'), 2048, {}}};
  image.tags = {images::parse_reference("busybox"), images::parse_reference("busybox:1.36")};
  return image;
}

}  // namespace

TEST_CASE("manifest.json names the config and the plain layers by their blob paths") {
  auto untagged = busybox_image();
  untagged.tags.clear();
  json j = images::docker_manifest_json({busybox_image(), untagged});
  REQUIRE(j.size() == 2);
  CHECK(j[0]["Config"] == "blobs/sha256/" + std::string(64, 'c'));
  CHECK(j[0]["RepoTags"] == json{"busybox:latest", "busybox:1.36"});
  CHECK(j[0]["Layers"] == json{"blobs/sha256/" + std::string(64, '1'), "blobs/sha256/" + std::string(64, '2')});
  CHECK(j[1]["RepoTags"].is_null());  // as Docker writes an image saved by id
}

TEST_CASE("repositories maps each tag to the top layer, as old docker load wants") {
  json j = images::repositories_json({busybox_image()});
  CHECK(j == json{{"busybox", {{"latest", std::string(64, '2')}, {"1.36", std::string(64, '2')}}}});
  auto untagged = busybox_image();
  untagged.tags.clear();
  CHECK(images::repositories_json({untagged}).empty());
}

TEST_CASE("index.json has one entry per tag with Docker's two annotations, one bare entry when untagged") {
  auto untagged = busybox_image();
  untagged.tags.clear();
  std::vector<oci::Descriptor> manifests = {{oci::kManifestType, digest('m'), 400, {}},
                                            {oci::kManifestType, digest('n'), 401, {}}};
  json j = images::archive_index_json({busybox_image(), untagged}, manifests);
  CHECK(j["mediaType"] == oci::kIndexType);
  REQUIRE(j["manifests"].size() == 3);
  auto first = j["manifests"][0];
  CHECK(first["digest"] == digest('m'));
  CHECK(first["annotations"]["io.containerd.image.name"] == "docker.io/library/busybox:latest");
  CHECK(first["annotations"]["org.opencontainers.image.ref.name"] == "latest");
  CHECK(first["platform"] == json{{"architecture", "amd64"}, {"os", "linux"}});
  CHECK(j["manifests"][1]["annotations"]["org.opencontainers.image.ref.name"] == "1.36");
  CHECK_FALSE(j["manifests"][2].contains("annotations"));
}

TEST_CASE("the manifest an archive carries is the same whichever way it is built") {
  auto image = busybox_image();
  json m = images::archive_manifest_json(image.config, image.layers);
  CHECK(m["schemaVersion"] == 2);
  CHECK(m["mediaType"] == oci::kManifestType);
  CHECK(m["config"]["digest"] == digest('c'));
  CHECK(m["layers"].size() == 2);
  CHECK(m.dump() == images::archive_manifest_json(image.config, image.layers).dump());
}

TEST_CASE("an index entry names its image by the containerd name, else by a whole ref.name") {
  auto name = [](std::map<std::string, std::string> a) {
    auto r = images::name_from_annotations(a);
    return r ? r->full() : std::string("(none)");
  };
  CHECK(name({{"io.containerd.image.name", "docker.io/library/busybox:1.36"},
              {oci::kRefNameAnnotation, "1.36"}}) == "docker.io/library/busybox:1.36");
  CHECK(name({{oci::kRefNameAnnotation, "other:tag"}}) == "docker.io/library/other:tag");
  CHECK(name({{oci::kRefNameAnnotation, "localhost/x/y:2"}}) == "localhost/x/y:2");
  CHECK(name({{oci::kRefNameAnnotation, "latest"}}) == "(none)");  // a tag alone names no image
  CHECK(name({{oci::kRefNameAnnotation, "Bad:Name!"}}) == "(none)");
  CHECK(name({}) == "(none)");
}

TEST_CASE("paths inside an archive are cleaned and never leave it") {
  CHECK(images::clean_archive_path("./blobs//sha256/./ab") == "blobs/sha256/ab");
  CHECK(images::clean_archive_path("manifest.json") == "manifest.json");
  CHECK_FALSE(images::clean_archive_path("/etc/passwd"));
  CHECK_FALSE(images::clean_archive_path("a/../../b"));
  CHECK_FALSE(images::clean_archive_path("."));
  CHECK_FALSE(images::clean_archive_path(""));
}

TEST_CASE("links in an archive are followed inside it, and refused when they leave it or loop") {
  std::map<std::string, std::string> symlinks = {
      {"abc/layer.tar", "../def/layer.tar"},  // how old docker save shares a layer
      {"dir", "def"},
      {"out", "../../etc/passwd"},
      {"abs", "/etc/passwd"},
      {"loop1", "loop2"},
      {"loop2", "loop1"}};
  std::map<std::string, std::string> hardlinks = {{"hard.tar", "def/layer.tar"}};
  auto resolve = [&](const std::string& p) {
    auto r = images::resolve_archive_path(symlinks, hardlinks, p);
    return r ? *r : std::string("(refused)");
  };
  CHECK(resolve("abc/layer.tar") == "def/layer.tar");
  CHECK(resolve("./abc/layer.tar") == "def/layer.tar");
  CHECK(resolve("dir/layer.tar") == "def/layer.tar");
  CHECK(resolve("hard.tar") == "def/layer.tar");
  CHECK(resolve("plain.json") == "plain.json");
  CHECK(resolve("out") == "(refused)");
  CHECK(resolve("abs") == "(refused)");
  CHECK(resolve("loop1") == "(refused)");
}

TEST_CASE("export's overlay puts the container's upper dir on top of the layers, with no upperdir") {
  CHECK(images::readonly_overlay_options({"/s/layers/a", "/s/layers/b"}, "/s/c/upper") ==
        "lowerdir=/s/c/upper:/s/layers/b:/s/layers/a");
  CHECK(images::readonly_overlay_options({"/s/layers/a", "/elsewhere/b"}, "/s/c/upper", "/s/layers") ==
        "lowerdir=/s/c/upper:/elsewhere/b:a");
}
