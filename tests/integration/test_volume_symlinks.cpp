// tests/integration/test_volume_symlinks.cpp — an image's symlinks cannot
// send a mount onto the host. The test imports an image whose /data points
// at /etc, whose /escape climbs out with "..", whose /abs names a host
// directory by its absolute path, and whose /chain1 gets there through
// three links; it mounts volumes and binds there and checks that the host
// directory is neither mounted over, written, nor copied into a volume,
// and that the mount is where the container itself sees the path.
// Lesson: 06-volumes. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
namespace images = skiff::images;
namespace stdfs = std::filesystem;

namespace {

// The host directory an escaping link aims at, with a secret in it.
struct HostTarget {
  stdfs::path dir = stdfs::temp_directory_path() / ("skiff-it-trap-" + std::to_string(::getpid()));
  HostTarget() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
    stdfs::create_directories(dir);
    skiff::core::fs::write_file_atomic(dir / "secret", "host secret\n");
  }
  ~HostTarget() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
  }
  // Everything in it, to compare before and after.
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(dir)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

struct Tarball {
  stdfs::path path;
  ~Tarball() {
    std::error_code ec;
    stdfs::remove(path, ec);
  }
};

// busybox, a shell, an /etc with a marker, and the traps.
std::string trap_rootfs_tar(const stdfs::path& host_dir) {
  std::string rel = host_dir.relative_path().string();  // "tmp/skiff-it-trap-N"
  using E = images::TarEntry;
  return images::write_tar({
      E::directory("bin", 0755),
      E::file("bin/busybox", skiff::core::fs::read_file(images::kBusyboxBinary), 0755),
      E::symlink("bin/sh", "busybox"),
      E::directory("etc", 0755),
      E::file("etc/marker", "image etc\n", 0644),
      E::symlink("data", "/etc"),
      E::symlink("escape", "../../../../../../../../" + rel),
      E::symlink("abs", "/" + rel),
      E::symlink("chain1", "chain2"),
      E::symlink("chain2", "/chain3"),
      E::symlink("chain3", "../../.." + host_dir.string()),
      E::symlink("loop", "loop"),
      E::symlink("p", "../proc"),
  });
}

std::string import_trap_image(it::Sandbox& box, const HostTarget& host, Tarball& tar) {
  tar.path = box.root().parent_path() / (box.root().filename().string() + "-trap.tar");
  skiff::core::fs::write_file_atomic(tar.path, trap_rootfs_tar(host.dir));
  auto image = box.name("trap") + ":v1";
  auto r = box.run({"import", tar.path.string(), image});
  INFO(r.err);
  REQUIRE(r.code == 0);
  return image;
}

}  // namespace

TEST_CASE("volume: a symlink in the image cannot send a mount onto the host", "[volume][kernel]") {
  it::require_root();
  HostTarget host;
  it::Sandbox box;
  Tarball tar;
  auto image = import_trap_image(box, host, tar);
  auto before = host.listing();
  std::string inside = host.dir.string();  // the same path, seen inside the container

  for (const char* link : {"/escape", "/abs", "/chain1"}) {
    INFO(link);
    auto vol = box.name("trapvol");
    // A volume on the link, a bind below it (a missing target to create).
    auto r = box.run({"run", "--rm", "-v", vol + ":" + link, "-v", "/" + std::string(link) + "/made",
                      image, "sh", "-c", "echo in > " + std::string(link) + "/w; ls " + inside})
                 ;
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(contains(r.out, "w\n"));            // the container sees its write where it expects it
    CHECK(!contains(r.out, "secret"));        // not the host's directory
    CHECK(host.listing() == before);          // nothing made or written on the host
    CHECK(!stdfs::exists(box.root() / "volumes" / vol / "_data" / "secret"));  // no copy-up of the host
    CHECK(it::read_file(box.root() / "volumes" / vol / "_data" / "w") == "in\n");
    CHECK(box.run({"volume", "rm", vol}).code == 0);
  }
  CHECK(it::mountinfo_lines_containing(host.dir.string()).empty());
  CHECK(box.run({"volume", "prune", "-f"}).code == 0);
}

TEST_CASE("volume: a mount on a link to /etc lands on the container's /etc", "[volume][kernel]") {
  it::require_root();
  HostTarget host;
  it::Sandbox box;
  Tarball tar;
  auto image = import_trap_image(box, host, tar);
  auto r = box.run({"run", "--rm", "-v", host.dir.string() + ":/data/app:ro", image, "busybox", "cat", "/etc/app/secret"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "host secret\n");
  CHECK(it::mountinfo_lines_containing(" /etc ").empty());
  CHECK(!stdfs::exists("/etc/marker"));

  // Copy-up through the link: the volume starts as the image's /etc.
  auto vol = box.name("etcvol");
  r = box.run({"run", "--rm", "-v", vol + ":/data", image, "busybox", "cat", "/data/marker"});
  INFO(r.err);
  CHECK(r.out == "image etc\n");
  CHECK(box.run({"volume", "rm", vol}).code == 0);
}

TEST_CASE("volume: a symlink loop or a file in the way is a clear error", "[volume][kernel]") {
  it::require_root();
  HostTarget host;
  it::Sandbox box;
  Tarball tar;
  auto image = import_trap_image(box, host, tar);
  auto r = box.run({"run", "--rm", "--tmpfs", "/loop/x", image, "true"});
  CHECK(r.code == 125);
  CHECK(contains(r.err, "mount target /loop/x in the container: Too many levels of symbolic links"));
  r = box.run({"run", "--rm", "--tmpfs", "/etc/marker/x", image, "true"});
  CHECK(r.code == 125);
  CHECK(contains(r.err, "Not a directory"));
  for (const char* target : {"/p", "/p/x", "/p/sys"}) {
    INFO(target);
    r = box.run({"run", "--rm", "--tmpfs", target, image, "true"});
    CHECK(r.code == 125);
    CHECK(contains(r.err, std::string("invalid mount config: ") + target +
                              " cannot be mounted because it is located inside \"/proc\""));
  }
}
