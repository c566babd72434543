// tests/unit/test_images.cpp — lesson 05-images: names, the OCI store, the
// built-in busybox image, layer unpacking. No root needed: everything is made
// in a temporary directory.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "temp_dir.hpp"
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "05-images/oci.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"

namespace images = skiff::images;
namespace oci = skiff::images::oci;
namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

using TempDir = skiff::testing::TempDir;

json read_json(const stdfs::path& p) { return json::parse(skiff::core::fs::read_file(p)); }

struct stat stat_of(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

std::string error_of(const std::string& text) {
  try {
    images::parse_reference(text);
  } catch (const skiff::core::Error& e) {
    return e.what();
  }
  return "";
}

const std::string kHex64(64, 'a');

}  // namespace

TEST_CASE("parse_reference normalises names as Docker does", "[images]") {
  struct Case {
    std::string in, registry, repository, tag, digest, full, familiar;
  };
  const std::string dg = "sha256:" + kHex64;
  const Case cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "docker.io/library/busybox:latest",
       "busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "",
       "docker.io/library/busybox:1.36", "busybox:1.36"},
      {"library/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest", "busybox:latest"},
      {"docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest", "busybox:latest"},
      {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", "",
       "docker.io/library/busybox:latest", "busybox:latest"},
      {"user/app:1.0", "docker.io", "user/app", "1.0", "", "docker.io/user/app:1.0", "user/app:1.0"},
      {"localhost:5000/x", "localhost:5000", "x", "latest", "", "localhost:5000/x:latest",
       "localhost:5000/x:latest"},
      {"localhost/x:2", "localhost", "x", "2", "", "localhost/x:2", "localhost/x:2"},
      {"reg.example.com/a/b@" + dg, "reg.example.com", "a/b", "", dg, "reg.example.com/a/b@" + dg,
       "reg.example.com/a/b@" + dg},
      {"busybox:1.36@" + dg, "docker.io", "library/busybox", "1.36", dg,
       "docker.io/library/busybox:1.36@" + dg, "busybox:1.36@" + dg},
      {"quay.io/org/my-app__x.y:v1.2_rc-1", "quay.io", "org/my-app__x.y", "v1.2_rc-1", "",
       "quay.io/org/my-app__x.y:v1.2_rc-1", "quay.io/org/my-app__x.y:v1.2_rc-1"},
      {"docker.io/library/a/b", "docker.io", "library/a/b", "latest", "",
       "docker.io/library/a/b:latest", "library/a/b:latest"},
      {"Registry/app", "Registry", "app", "latest", "", "Registry/app:latest",
       "Registry/app:latest"},
  };
  for (const auto& c : cases) {
    INFO(c.in);
    auto r = images::parse_reference(c.in);
    CHECK(r.registry == c.registry);
    CHECK(r.repository == c.repository);
    CHECK(r.tag == c.tag);
    CHECK(r.digest == c.digest);
    CHECK(r.full() == c.full);
    CHECK(r.familiar() == c.familiar);
  }
  CHECK(images::parse_reference("user/app").familiar_repository() == "user/app");
}

TEST_CASE("parse_reference refuses what Docker refuses", "[images]") {
  CHECK(error_of("Busybox") ==
        "invalid reference format: repository name (library/Busybox) must be lowercase");
  CHECK(error_of("user/App:1") ==
        "invalid reference format: repository name (user/App) must be lowercase");
  CHECK(error_of(kHex64).find("cannot specify 64-byte hexadecimal strings") != std::string::npos);
  const char* garbage[] = {"",         ":latest", "busybox:",    "a//b",      "-abc",
                           "/busybox", "busybox/", "busybox::1", "busy box",  "a/b:tag with space",
                           "busybox@sha256:123", "busybox@md5:0123", "a/_b", "reg.example.com:/x"};
  for (const char* g : garbage) {
    INFO(g);
    CHECK(error_of(g) == "invalid reference format");
  }
  CHECK(error_of("a/" + std::string(260, 'b')).find("255 characters") != std::string::npos);
}

TEST_CASE("the built-in busybox image is a valid OCI layout", "[images]") {
  TempDir tmp;
  images::Store store(tmp.path() / "images");
  images::Image image = store.ensure_builtin_busybox();
  const stdfs::path dir = store.dir();

  CHECK(read_json(dir / "oci-layout") == json{{"imageLayoutVersion", "1.0.0"}});
  json index = read_json(dir / "index.json");
  CHECK(index["schemaVersion"] == 2);
  REQUIRE(index["manifests"].size() == 1);
  json desc = index["manifests"][0];
  CHECK(desc["mediaType"] == oci::kManifestType);
  CHECK(desc["annotations"][oci::kRefNameAnnotation] == "docker.io/library/busybox:latest");

  SECTION("every blob is named by the sha256 of its content") {
    int blobs = 0;
    for (const auto& e : stdfs::directory_iterator(dir / "blobs" / "sha256")) {
      CHECK(oci::sha256_file_hex(e.path()) == e.path().filename().string());
      ++blobs;
    }
    CHECK(blobs == 3);  // layer, config, manifest
  }

  SECTION("manifest and config say what the image is") {
    oci::Layout layout(dir);
    json manifest = json::parse(layout.read_blob(oci::descriptor_from_json(desc)));
    CHECK(manifest["config"]["mediaType"] == oci::kConfigType);
    CHECK(manifest["config"]["digest"] == image.id);
    REQUIRE(manifest["layers"].size() == 1);
    CHECK(manifest["layers"][0]["mediaType"] == oci::kLayerGzipType);
    json config = json::parse(layout.read_blob(oci::descriptor_from_json(manifest["config"])));
    CHECK(config["os"] == "linux");
    CHECK(config["config"]["Cmd"] == json{"sh"});
    CHECK(config["rootfs"]["type"] == "layers");
    CHECK(config["history"][0]["created_by"] ==
          "skiff: built-in image from Debian's busybox-static");
    CHECK(std::string(config["created"]).size() == 20);  // YYYY-MM-DDTHH:MM:SSZ
    CHECK(image.created == config["created"]);

    // The layer's diff_id is the sha256 of the tar inside the gzip blob, and
    // the gzip header carries no timestamp (bytes 4–7), for determinism.
    std::string digest = manifest["layers"][0]["digest"];
    auto blob = layout.blob_path(digest);
    CHECK(images::uncompressed_digest(blob).digest == config["rootfs"]["diff_ids"][0]);
    std::string gz = skiff::core::fs::read_file(blob);
    CHECK(gz.substr(0, 2) == "\x1f\x8b");
    CHECK(gz.substr(4, 4) == std::string(4, '\0'));
  }

  SECTION("the Image describes it") {
    CHECK(image.id.starts_with("sha256:"));
    CHECK(image.repo_tags == std::vector<std::string>{"busybox:latest"});
    CHECK(image.config.cmd == std::vector<std::string>{"sh"});
    CHECK(image.config.env.size() == 1);
    CHECK(image.size > 1'000'000);
    REQUIRE(image.layers.size() == 1);
  }

  SECTION("the unpacked layer is a small Unix root") {
    const stdfs::path root = image.layers.at(0);
    CHECK(root.parent_path() == dir / "layers");
    auto busybox = stat_of(root / "bin/busybox");
    CHECK((busybox.st_mode & 07777) == 0755);
    CHECK(stat_of(root / "bin/sh").st_ino == busybox.st_ino);  // a hard link, not a copy
    CHECK(stat_of(root / "usr/bin/awk").st_ino == busybox.st_ino);
    CHECK(busybox.st_nlink > 100);
    CHECK((stat_of(root / "tmp").st_mode & 07777) == 01777);
    CHECK((stat_of(root / "var/tmp").st_mode & 07777) == 01777);
    CHECK((stat_of(root / "root").st_mode & 07777) == 0700);
    for (const char* d : {"dev", "proc", "sys", "home", "usr/sbin"}) CHECK(stdfs::is_directory(root / d));
    std::string passwd = skiff::core::fs::read_file(root / "etc/passwd");
    CHECK(passwd.starts_with("root:x:0:0:root:/root:/bin/sh\n"));
    CHECK(passwd.find("nobody:x:65534:65534:") != std::string::npos);
    CHECK(skiff::core::fs::read_file(root / "etc/group").find("nogroup:x:65534:") != std::string::npos);
    CHECK(skiff::core::fs::read_file(root / "etc/hosts").starts_with("127.0.0.1\tlocalhost\n"));
    for (const auto& e : stdfs::directory_iterator(dir / "layers"))
      CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

TEST_CASE("the built-in image is the same on every build", "[images]") {
  TempDir a, b;
  images::Store sa(a.path()), sb(b.path());
  auto ia = sa.ensure_builtin_busybox();
  auto ib = sb.ensure_builtin_busybox();
  CHECK(ia.id == ib.id);
  CHECK(read_json(a.path() / "index.json") == read_json(b.path() / "index.json"));
  // A second call finds it instead of building it again.
  CHECK(sa.ensure_builtin_busybox().id == ia.id);
}

TEST_CASE("find() takes names, ids and id prefixes", "[images]") {
  TempDir tmp;
  images::Store store(tmp.path());
  auto made = store.find("busybox");  // an empty store makes the built-in on demand
  REQUIRE(made);
  const std::string id = made->id;
  const std::string hex = id.substr(7);

  for (const std::string& name : std::vector<std::string>{"busybox", "busybox:latest", "library/busybox",
                           "docker.io/library/busybox:latest", id, hex, hex.substr(0, 12),
                           "sha256:" + hex.substr(0, 6)}) {
    INFO(name);
    auto found = store.find(name);
    REQUIRE(found);
    CHECK(found->id == id);
    CHECK(found->layers == made->layers);
  }
  std::string other_hex = hex;
  other_hex[0] = other_hex[0] == '0' ? '1' : '0';
  for (const std::string& name : std::vector<std::string>{"nosuchimage", "nosuchimage:1.0", "busybox:1.0", "user/busybox",
                           "sha256:" + other_hex.substr(0, 8), other_hex.substr(0, 10)}) {
    INFO(name);
    CHECK_FALSE(store.find(name));
  }
  CHECK_THROWS_AS(store.find("Busybox"), skiff::core::Error);

  SECTION("a second name for the same image is listed as a second tag") {
    oci::Layout layout(tmp.path());
    layout.set_ref(layout.read_index().at(0), "docker.io/library/busybox:1.36");
    auto tagged = store.find("busybox:1.36");
    REQUIRE(tagged);
    CHECK(tagged->id == id);
    auto all = store.list();
    REQUIRE(all.size() == 1);
    CHECK(all[0].repo_tags == std::vector<std::string>{"busybox:latest", "busybox:1.36"});
  }

  SECTION("a missing layer directory is unpacked again") {
    stdfs::remove_all(made->layers.at(0));
    auto found = store.find("busybox");
    REQUIRE(found);
    CHECK(stdfs::exists(found->layers.at(0) / "bin/sh"));
  }

  SECTION("a corrupt blob is refused") {
    auto manifest = json::parse(oci::Layout(tmp.path()).read_blob(oci::Layout(tmp.path()).read_index().at(0)));
    auto config = oci::Layout(tmp.path()).blob_path(manifest["config"]["digest"].get<std::string>());
    skiff::core::fs::write_file_atomic(config, "{}");
    CHECK_THROWS_WITH(store.find("busybox"), Catch::Contains("corrupt"));
  }
}

TEST_CASE("concurrent first use builds the built-in image once", "[images]") {
  TempDir tmp;
  const stdfs::path dir = tmp.path() / "images";
  std::vector<pid_t> children;
  for (int i = 0; i < 4; ++i) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int status = 1;
      try {
        images::Store(dir).ensure_builtin_busybox();
        status = 0;
      } catch (...) {
      }
      ::_exit(status);  // never return into Catch in the child
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  CHECK(read_json(dir / "index.json")["manifests"].size() == 1);
  int layer_dirs = 0;
  for (const auto& e : stdfs::directory_iterator(dir / "layers")) layer_dirs += e.is_directory();
  CHECK(layer_dirs == 1);
  CHECK(images::Store(dir).list().size() == 1);
}

TEST_CASE("unpack_layer keeps every entry inside the destination", "[images]") {
  TempDir tmp;
  const stdfs::path dest = tmp.path() / "dest";
  stdfs::create_directories(dest);
  auto unpack = [&](std::vector<images::TarEntry> entries) {
    auto tarball = tmp.path() / "layer.tar.gz";
    skiff::core::fs::write_file_atomic(tarball, images::gzip_deterministic(images::write_tar(entries)));
    images::unpack_layer(tarball, dest);
  };

  SECTION("an absolute name lands under dest, as in Docker") {
    unpack({images::TarEntry::file("/abs", "x", 0600)});
    CHECK(stdfs::exists(dest / "abs"));
    CHECK((stat_of(dest / "abs").st_mode & 07777) == 0600);
  }
  SECTION("'..' is refused") {
    CHECK_THROWS_AS(unpack({images::TarEntry::file("../evil", "x", 0644)}), skiff::core::Error);
    CHECK_FALSE(stdfs::exists(tmp.path() / "evil"));
  }
  SECTION("writing through a symlink is refused") {
    stdfs::create_directories(tmp.path() / "outside");
    CHECK_THROWS_AS(unpack({images::TarEntry::symlink("link", (tmp.path() / "outside").string()),
                            images::TarEntry::file("link/evil", "x", 0644)}),
                    skiff::core::Error);
    CHECK_FALSE(stdfs::exists(tmp.path() / "outside/evil"));
  }
  SECTION("a destination reached through a symlink still works") {
    stdfs::create_directory_symlink(dest, tmp.path() / "alias");
    auto tarball = tmp.path() / "layer.tar";
    skiff::core::fs::write_file_atomic(
        tarball, images::write_tar({images::TarEntry::directory("d", 0750),
                                    images::TarEntry::file("d/f", "hi", 0644),
                                    images::TarEntry::hard_link("d/g", "d/f", 0644)}));
    images::unpack_layer(tarball, tmp.path() / "alias");
    CHECK(skiff::core::fs::read_file(dest / "d/g") == "hi");
    CHECK((stat_of(dest / "d").st_mode & 07777) == 0750);
    CHECK(stat_of(dest / "d/f").st_ino == stat_of(dest / "d/g").st_ino);
  }
}
