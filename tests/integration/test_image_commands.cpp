// tests/integration/test_image_commands.cpp — tag, rmi, image prune, image
// inspect, history and the options of images, as a Docker user sees them;
// and what each leaves on disk: a removed image frees its blobs and layers,
// never those another image or a container still needs. Lesson 05. Root.
#include <catch2/catch.hpp>
#include <algorithm>
#include <regex>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "core/fs.hpp"
#include "harness.hpp"
#include "image_helpers.hpp"

using it::contains;
using it::lines;
using it::trim;
namespace images = skiff::images;
namespace stdfs = std::filesystem;

namespace {

// A root filesystem with a few commands and /marker, MARKER making each image different.
std::string rootfs_tar(const std::string& marker) {
  return it::busybox_rootfs_tar({images::TarEntry::symlink("bin/true", "busybox"),
                                 images::TarEntry::symlink("bin/cat", "busybox"),
                                 images::TarEntry::symlink("bin/sleep", "busybox"),
                                 images::TarEntry::file("marker", marker + "\n", 0644)});
}

// Imports a tarball of MARKER's root as NAME; returns the image id.
std::string import_as(it::Sandbox& box, const std::string& marker, const std::string& name) {
  // The file name differs per image name: it is in the config ("Imported
  // from …"), so the same tarball imported twice gives two images, one layer.
  std::string file = name;
  std::replace(file.begin(), file.end(), ':', '-');
  auto tar = box.root().parent_path() / (box.root().filename().string() + "-" + file + ".tar");
  skiff::core::fs::write_file_atomic(tar, rootfs_tar(marker));
  auto r = box.run({"import", tar.string(), name});
  std::error_code ec;
  stdfs::remove(tar, ec);
  REQUIRE(r.code == 0);
  return trim(r.out);
}

size_t count_entries(const stdfs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : stdfs::directory_iterator(dir)) ++n;
  return n;
}

std::string image_row(it::Sandbox& box, const std::string& repo) {
  for (const auto& line : lines(box.run({"images"}).out))
    if (line.rfind(repo + " ", 0) == 0) return line;
  return "";
}

}  // namespace

TEST_CASE("tag gives an image a second name and rmi of that name only untags it", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto id = box.id_of("busybox");
  REQUIRE(box.run({"tag", "busybox", "mybox:1.0"}).code == 0);
  CHECK(contains(image_row(box, "mybox"), id.substr(7, 12)));
  auto tags = box.inspect("mybox:1.0")["RepoTags"];
  CHECK(tags.size() == 2);

  auto r = box.run({"rmi", "mybox:1.0"});
  CHECK(r.code == 0);
  CHECK(r.out == "Untagged: mybox:1.0\n");
  CHECK(image_row(box, "mybox").empty());
  CHECK(box.run({"run", "--rm", "busybox", "true"}).code == 0);
}

TEST_CASE("rmi of an image's last name deletes it and frees what no other image uses", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  REQUIRE(box.run({"images"}).code == 0);  // the built-in busybox: the store exists
  auto layers = box.root() / "images" / "layers";
  auto blobs = box.root() / "images" / "blobs" / "sha256";
  size_t layers_before = count_entries(layers), blobs_before = count_entries(blobs);
  auto id = import_as(box, "one", "first:1");
  // The same tarball under a second name: one layer, two images (the
  // configs differ by their creation time).
  import_as(box, "one", "second:1");

  auto r = box.run({"rmi", "first:1"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "Untagged: first:1\n"));
  CHECK(contains(r.out, "Deleted: " + id + "\n"));
  CHECK_FALSE(stdfs::exists(blobs / id.substr(7)));
  // The layer is still second's.
  CHECK(box.run({"run", "--rm", "second:1", "cat", "/marker"}).out == "one\n");

  r = box.run({"rmi", "second:1"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "Deleted: sha256:"));
  CHECK(count_entries(layers) == layers_before);
  CHECK(count_entries(blobs) == blobs_before);
  CHECK(box.run({"run", "--rm", "second:1", "true"}).code == 125);
}

TEST_CASE("rmi refuses an image a container uses, and -f leaves it untagged for that container", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto id = import_as(box, "used", "used:1");
  auto name = box.name("user");
  REQUIRE(box.run({"run", "--name", name, "used:1", "true"}).code == 0);

  auto r = box.run({"rmi", "used:1"});
  CHECK(r.code == 1);
  CHECK(std::regex_search(r.err, std::regex("conflict: unable to remove repository reference \"used:1\" "
                                            "\\(must force\\) - container [0-9a-f]{12} is using its "
                                            "referenced image " + id.substr(7, 12))));
  r = box.run({"rmi", id.substr(7, 12)});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "(must be forced) - image is being used by stopped container"));
  CHECK(contains(image_row(box, "used"), id.substr(7, 12)));

  r = box.run({"rmi", "-f", "used:1"});
  CHECK(r.code == 0);
  CHECK(r.out == "Untagged: used:1\n");
  CHECK(contains(box.run({"images"}).out, "<none>       <none>    " + id.substr(7, 12)));
  // The container still starts: its layers were kept.
  r = box.run({"start", "-a", name});
  CHECK(r.code == 0);

  // Once the container is gone the untagged image is dangling: prune takes it.
  REQUIRE(box.run({"rm", name}).code == 0);
  r = box.run({"image", "prune", "-f"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "Deleted Images:\ndeleted: " + id + "\n"));
  CHECK(std::regex_search(r.out, std::regex("Total reclaimed space: [0-9.]+[kM]B\n$")));
  CHECK_FALSE(contains(box.run({"images", "-q", "--no-trunc"}).out, id));
}

TEST_CASE("rmi -f cannot remove the image of a running container by id", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto id = import_as(box, "running", "running:1");
  auto name = box.name("runner");
  REQUIRE(box.run({"run", "-d", "--name", name, "running:1", "sleep", "30"}).code == 0);
  auto r = box.run({"rmi", "-f", id.substr(7, 12)});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "(cannot be forced) - image is being used by running container"));
  CHECK(box.run({"exec", name, "cat", "/marker"}).out == "running\n");
}

TEST_CASE("rmi of an unknown image and bad arguments", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"rmi", "nosuch"});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: No such image: nosuch:latest\n");
  r = box.run({"rmi"});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: \"skiff rmi\" requires at least 1 argument\n");
  r = box.run({"tag", "nosuch", "x"});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: No such image: nosuch\n");
  r = box.run({"tag", "busybox", "Bad:Name"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "must be lowercase"));
}

TEST_CASE("image prune keeps tagged images, and -a keeps those containers use", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto dangling = import_as(box, "dangling", "dangling:1");
  import_as(box, "other", "dangling:1");  // takes the name: the first is <none> now
  auto kept = import_as(box, "kept", "kept:1");
  auto unused = import_as(box, "unused", "unused:1");
  auto name = box.name("keeper");
  REQUIRE(box.run({"run", "--name", name, "kept:1", "true"}).code == 0);

  // Without -f it asks; anything but yes keeps everything.
  auto r = box.run({"image", "prune"}, "n\n");
  CHECK(r.code == 0);
  CHECK(contains(r.out, "WARNING! This will remove all dangling images."));
  CHECK(contains(box.run({"images", "-q", "--no-trunc"}).out, dangling));

  r = box.run({"image", "prune", "-f"});
  CHECK(contains(r.out, "deleted: " + dangling));
  auto ids = box.run({"images", "-q", "--no-trunc"}).out;
  CHECK_FALSE(contains(ids, dangling));
  CHECK(contains(ids, unused));

  r = box.run({"image", "prune", "-a", "-f"});
  CHECK(contains(r.out, "untagged: unused:1"));
  ids = box.run({"images", "-q", "--no-trunc"}).out;
  CHECK_FALSE(contains(ids, unused));
  CHECK(contains(ids, kept));
}

TEST_CASE("image inspect and inspect of an image print Docker's keys", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto id = import_as(box, "inspected", "inspected:2");
  auto j = box.inspect("inspected:2");
  CHECK(j["Id"] == id);
  CHECK(j["RepoTags"] == nlohmann::json::array({"inspected:2"}));
  CHECK(j["RepoDigests"].is_array());
  CHECK(j["RootFS"]["Type"] == "layers");
  CHECK(j["RootFS"]["Layers"].size() == 1);
  CHECK(j["Os"] == "linux");
  CHECK(j["Size"].get<int64_t>() > 1000000);
  CHECK(j["Config"]["Env"][0].get<std::string>().rfind("PATH=", 0) == 0);
  CHECK(j.contains("Created"));

  auto r = box.run({"image", "inspect", "inspected:2", "nosuch"});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: No such image: nosuch\n");
  CHECK(nlohmann::json::parse(r.out).size() == 1);
}

TEST_CASE("history shows an image's layers top first", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto id = import_as(box, "hist", "hist:1");
  auto r = box.run({"history", "hist:1"});
  CHECK(r.code == 0);
  auto rows = lines(r.out);
  REQUIRE(rows.size() == 2);
  CHECK(std::regex_search(rows[0], std::regex("^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$")));
  CHECK(rows[1].rfind(id.substr(7, 12), 0) == 0);
  CHECK(contains(rows[1], "Imported from "));
  CHECK(contains(rows[1], "MB"));
  CHECK(box.run({"history", "-q", "hist:1"}).out == id.substr(7, 12) + "\n");
  CHECK(box.run({"history", "nosuch"}).code == 1);
}

TEST_CASE("images filters by name and dangling, and shows digests on request", "[images][integration]") {
  it::require_root();
  it::Sandbox box;
  auto first = import_as(box, "f1", "filtered:1");
  import_as(box, "f2", "filtered:1");  // the first becomes dangling
  auto r = box.run({"images", "filtered"});
  CHECK(lines(r.out).size() == 2);
  r = box.run({"images", "-q", "--no-trunc", "-f", "dangling=true"});
  CHECK(r.out == first + "\n");
  r = box.run({"images", "--digests", "busybox"});
  CHECK(std::regex_search(lines(r.out)[0], std::regex("^REPOSITORY +TAG +DIGEST +IMAGE ID")));
  CHECK(contains(lines(r.out)[1], "<none>"));
  r = box.run({"images", "-f", "color=blue"});
  CHECK(r.code == 125);
  CHECK(contains(r.err, "invalid filter 'color=blue'"));
}
