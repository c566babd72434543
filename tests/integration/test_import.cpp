// tests/integration/test_import.cpp — `skiff import`: a root filesystem in a
// tarball becomes an image that runs; what is not a tarball is refused and
// leaves the store as it was. Lessons: 00-why-containers, 05-images. Needs root.
#include <catch2/catch.hpp>
#include <regex>
#include <set>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "core/fs.hpp"
#include "harness.hpp"
#include "image_helpers.hpp"

using it::busybox_rootfs_tar;
using it::contains;
using it::image_store_files;
using it::images_row;
using it::lines;
using it::trim;
namespace images = skiff::images;
namespace stdfs = std::filesystem;

namespace {

// The tarball written beside the store, not inside it.
stdfs::path write_beside(const it::Sandbox& box, const std::string& file, const std::string& bytes) {
  auto path = box.root().parent_path() / (box.root().filename().string() + "-" + file);
  skiff::core::fs::write_file_atomic(path, bytes);
  return path;
}

struct Removed {
  std::vector<stdfs::path> paths;
  ~Removed() {
    std::error_code ec;
    for (const auto& p : paths) stdfs::remove(p, ec);
  }
};

bool is_image_id(const std::string& out) {
  return std::regex_match(out, std::regex("sha256:[0-9a-f]{64}\n"));
}

}  // namespace

TEST_CASE("import makes a one-layer image that runs, with no command of its own") {
  it::require_root();
  it::Sandbox box;
  Removed removed{{write_beside(box, "rootfs.tar", busybox_rootfs_tar())}};
  auto name = box.name("imp");
  auto r = box.run({"import", removed.paths[0].string(), name + ":v1"});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(is_image_id(r.out));
  CHECK(r.err.empty());

  auto row = images_row(box, name);
  CHECK(std::regex_search(row, std::regex("^" + name + " +v1 +" + r.out.substr(7, 12) + " ")));

  auto hello = box.run({"run", "--rm", name + ":v1", "/bin/sh", "-c", "echo hello from $0; ls /"});
  CHECK(hello.code == 0);
  CHECK(hello.out == "hello from /bin/sh\nbin\ndev\netc\nproc\nsys\n");

  auto no_cmd = box.run({"run", "--rm", name + ":v1"});
  CHECK(no_cmd.code == 125);
  CHECK(contains(no_cmd.err, "No command specified"));
}

TEST_CASE("import reads a gzip tarball from stdin, and without a name it is <none> <none>") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"import", "-"}, images::gzip_deterministic(busybox_rootfs_tar()));
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  REQUIRE(is_image_id(r.out));
  auto short_id = r.out.substr(7, 12);
  CHECK(std::regex_search(images_row(box, short_id), std::regex("^<none> +<none> +" + short_id)));
  CHECK(trim(box.run({"run", "--rm", short_id, "/bin/sh", "-c", "echo ok"}).out) == "ok");
}

TEST_CASE("import under a name already taken leaves the older image untagged") {
  it::require_root();
  it::Sandbox box;
  Removed removed{{write_beside(box, "rootfs.tar", busybox_rootfs_tar())}};
  auto name = box.name("retag");
  auto first = box.run({"import", removed.paths[0].string(), name});
  auto second = box.run({"import", removed.paths[0].string(), name});
  REQUIRE(first.code == 0);
  REQUIRE(second.code == 0);
  CHECK(first.out != second.out);  // created differs, so the config and the id do
  CHECK(contains(images_row(box, second.out.substr(7, 12)), name + "   latest"));
  CHECK(contains(images_row(box, first.out.substr(7, 12)), "<none>"));
}

TEST_CASE("import refuses a missing file or a non-tar, exits 1 and leaves the store as it was") {
  it::require_root();
  it::Sandbox box;
  REQUIRE(box.run({"images"}).code == 0);  // the store exists, with busybox in it
  std::string tar = busybox_rootfs_tar();
  std::string gz = images::gzip_deterministic(tar);
  Removed removed{{write_beside(box, "garbage.bin", std::string(3000, 'x') + "\x01\x02"),
                   write_beside(box, "empty.tar", ""),
                   write_beside(box, "cut.tar.gz", gz.substr(0, gz.size() / 2)),
                   write_beside(box, "notar.gz", images::gzip_deterministic("just text\n"))}};
  auto missing = (box.root().parent_path() / "nosuch.tar").string();
  auto before = image_store_files(box);

  struct Case {
    std::string file, message;
  };
  std::vector<Case> cases = {{missing, "open " + missing + ": no such file or directory"}};
  for (const auto& p : removed.paths) cases.push_back({p.string(), "not a tar archive"});
  for (const auto& c : cases) {
    auto r = box.run({"import", c.file, box.name("bad")});
    INFO(c.file << " → stderr: " << r.err);
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    CHECK(lines(r.err).size() == 1);
    CHECK(r.err.rfind("skiff: ", 0) == 0);
    CHECK(contains(r.err, c.message));
  }
  CHECK(image_store_files(box) == before);
  CHECK_FALSE(contains(box.run({"images"}).out, box.name("bad")));
  CHECK(box.run({"import", "-", "Upper:case"}, tar).code == 1);  // an invalid name
  CHECK(image_store_files(box) == before);
}

TEST_CASE("import -c sets the image's command and environment, -m its comment, and a bad change stores nothing") {
  it::require_root();
  it::Sandbox box;
  auto tar = write_beside(box, "changes.tar", busybox_rootfs_tar());
  Removed removed{{tar}};
  auto r = box.run({"import", "-c", "CMD [\"/bin/sh\", \"-c\", \"echo $GREETING\"]", "-c", "ENV GREETING=hello",
                    "-m", "built by hand", tar.string(), "changed:1"});
  REQUIRE(r.code == 0);
  CHECK(box.run({"run", "--rm", "changed:1"}).out == "hello\n");
  CHECK(contains(box.run({"history", "changed:1"}).out, "built by hand"));

  REQUIRE(box.run({"images"}).code == 0);
  auto before = image_store_files(box);
  r = box.run({"import", "-c", "FROM busybox", tar.string(), "refused:1"});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: FROM is not a valid change command\n");
  CHECK(image_store_files(box) == before);
}
