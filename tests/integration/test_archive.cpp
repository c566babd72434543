// tests/integration/test_archive.cpp — `skiff save`, `load` and `export`: images
// and containers as tarballs that other tools read, and that skiff reads back
// from other tools; what is broken is refused and changes nothing.
// Lesson: 05-images. Needs root; the interoperability cases need skopeo and
// podman (scripts/install-deps.sh installs them) and say SKIP without them.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <set>
#include <vector>

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

// A host command's exit status and its stdout and stderr together.
struct Shell {
  int code = -1;
  std::string out;
};

Shell sh(const std::string& command) {
  Shell r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Called before any Sandbox: ctest counts exit code 4 as a skip.
void require_tool(const std::string& tool) {
  if (sh("command -v " + tool).code == 0) return;
  std::cout << "SKIP: " << tool << " is not installed (scripts/install-deps.sh installs it)\n";
  std::exit(4);
}

// Files the test writes beside a store (never inside it), removed at the end.
struct Files {
  std::vector<stdfs::path> paths;
  stdfs::path add(const it::Sandbox& box, const std::string& name) {
    paths.push_back(box.root().parent_path() / (box.root().filename().string() + "-" + name));
    return paths.back();
  }
  ~Files() {
    std::error_code ec;
    for (const auto& p : paths) stdfs::remove_all(p, ec);
  }
};

// An image of this test's own, with an id no other store has (import
// stamps the time): a round trip that keeps it proves something.
std::string import_own_image(it::Sandbox& box, Files& files, const std::string& name) {
  auto tar = files.add(box, "rootfs.tar");
  skiff::core::fs::write_file_atomic(tar, busybox_rootfs_tar());
  auto r = box.run({"import", tar.string(), name});
  REQUIRE(r.code == 0);
  return trim(r.out);
}

void check_one_line_error(const it::Result& r, const std::string& message) {
  INFO("stderr: " << r.err);
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(lines(r.err).size() == 1);
  CHECK(contains(r.err, message));
}

// manifest.json's Config and Layers in what `skiff save NAME` writes.
nlohmann::json saved_blobs(it::Sandbox& box, Files& files, const std::string& name) {
  auto tar = files.add(box, "saved-" + std::to_string(files.paths.size()) + ".tar");
  if (box.run({"save", "-o", tar.string(), name}).code != 0) return "save failed";
  auto manifest = sh("tar -xOf " + tar.string() + " manifest.json");
  auto j = nlohmann::json::parse(manifest.out, nullptr, false);
  if (manifest.code != 0 || !j.is_array() || j.size() != 1) return "no manifest.json: " + manifest.out;
  return {j[0]["Config"], j[0]["Layers"]};
}

// Where podman (cgroupfs manager) puts conmon: libpod_parent/conmon, in
// every v1 hierarchy or in the v2 tree, made on its first run and left there.
std::vector<stdfs::path> libpod_cgroups() {
  std::vector<stdfs::path> out;
  std::error_code ec;
  if (stdfs::exists("/sys/fs/cgroup/libpod_parent", ec)) out.push_back("/sys/fs/cgroup/libpod_parent");
  for (const auto& e : stdfs::directory_iterator("/sys/fs/cgroup", ec))
    if (stdfs::exists(e.path() / "libpod_parent", ec)) out.push_back(e.path() / "libpod_parent");
  return out;
}

// A podman with a store of its own, removed whole at the end, and the
// cgroups its run made (if they were not there before).
struct Podman {
  stdfs::path dir;
  std::vector<stdfs::path> cgroups_before = libpod_cgroups();
  // runc, not podman's default crun: crun refuses a host whose cgroups are
  // hybrid (v1 controllers beside a cgroup2 tree), as this kind of VM boots.
  std::string cmd() const {
    return "podman --root " + (dir / "root").string() + " --runroot " + (dir / "run").string() +
           " --storage-driver vfs --cgroup-manager cgroupfs --runtime runc";
  }
  ~Podman() {
    sh(cmd() + " rm -a -f");
    sh(cmd() + " rmi -a -f");
    std::error_code ec;
    stdfs::remove_all(dir, ec);
    for (const auto& made : libpod_cgroups()) {
      if (std::find(cgroups_before.begin(), cgroups_before.end(), made) != cgroups_before.end()) continue;
      ::rmdir((made / "conmon").c_str());  // cgroups go with rmdir, and only when empty
      ::rmdir(made.c_str());
    }
  }
};

}  // namespace

TEST_CASE("save writes one tar that skopeo reads as docker-archive and oci-archive, and podman loads", "[archive]") {
  it::require_root();
  require_tool("skopeo");
  require_tool("podman");
  require_tool("runc");
  it::Sandbox box;
  Files files;
  auto tar = files.add(box, "busybox.tar");
  auto r = box.run({"save", "-o", tar.string(), "busybox"});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());

  for (const std::string transport : {"docker-archive:", "oci-archive:"}) {
    auto inspect = sh("skopeo inspect " + transport + tar.string());
    INFO(transport << " → " << inspect.out);
    CHECK(inspect.code == 0);
    CHECK(contains(inspect.out, "\"Architecture\""));
  }
  auto config = sh("skopeo inspect --config docker-archive:" + tar.string());
  CHECK(contains(config.out, "\"diff_ids\""));

  Podman podman{files.add(box, "podman")};
  auto load = sh(podman.cmd() + " load -i " + tar.string());
  INFO(load.out);
  REQUIRE(load.code == 0);
  CHECK(contains(load.out, "Loaded image: docker.io/library/busybox:latest"));
  CHECK(contains(sh(podman.cmd() + " image ls").out, "docker.io/library/busybox"));
  // Explicit limits: podman's defaults exceed what some CI sandboxes allow.
  auto run = sh(podman.cmd() + " run --rm --network none --ulimit nofile=1024:1024 "
                "--ulimit nproc=1024:1024 busybox echo ok");
  INFO(run.out);
  CHECK(run.code == 0);
  CHECK(trim(run.out) == "ok");
}

TEST_CASE("an archive skopeo made, docker-archive or oci-archive, loads into skiff and runs", "[archive]") {
  it::require_root();
  require_tool("skopeo");
  it::Sandbox from;
  REQUIRE(from.run({"images"}).code == 0);  // the built-in busybox, in an OCI layout skopeo reads
  Files files;
  // The third: layers compressed with zstd, which skiff stores as they are
  // and saves again as plain tars.
  for (const std::string how : {"docker-archive:", "oci-archive:",
                                 "--dest-compress --dest-compress-format zstd oci-archive:"}) {
    it::Sandbox box;
    auto tar = files.add(box, "skopeo.tar");
    auto copy = sh("skopeo copy -q oci:" + (from.root() / "images").string() +
                   ":docker.io/library/busybox:latest " + how + tar.string() + ":other:tag");
    const std::string& transport = how;
    INFO(transport);
    INFO(transport << " → " << copy.out);
    REQUIRE(copy.code == 0);
    auto load = box.run({"load", "-i", tar.string()});
    INFO("stderr: " << load.err);
    CHECK(load.code == 0);
    CHECK(load.out == "Loaded image: other:tag\n");
    auto run = box.run({"run", "--rm", "other:tag", "echo", "ok"});
    CHECK(run.code == 0);
    CHECK(run.out == "ok\n");
    // Saved again, it has the built-in busybox's config and plain layer,
    // whatever compression came in.
    CHECK(saved_blobs(box, files, "other:tag") == saved_blobs(from, files, "busybox"));
  }
}

TEST_CASE("save then load in another store keeps the image id, and loading twice changes nothing", "[archive]") {
  it::require_root();
  it::Sandbox box, other;
  Files files;
  auto name = box.name("trip") + ":v1";
  auto id = import_own_image(box, files, name);
  auto tar = files.add(box, "trip.tar");
  REQUIRE(box.run({"save", "-o", tar.string(), name}).code == 0);

  auto load = other.run({"load", "-i", tar.string()});
  INFO("stderr: " << load.err);
  REQUIRE(load.code == 0);
  CHECK(load.out == "Loaded image: " + name + "\n");
  CHECK(contains(images_row(other, box.name("trip")), id.substr(7, 12)));
  CHECK(other.run({"run", "--rm", name, "/bin/sh", "-c", "echo ok"}).out == "ok\n");

  auto before = image_store_files(other);
  auto again = other.run({"load"}, skiff::core::fs::read_file(tar));  // from stdin this time
  CHECK(again.code == 0);
  CHECK(again.out == load.out);
  CHECK(image_store_files(other) == before);
  // The same image saved from either store is the same bytes.
  CHECK(other.run({"save", name}).out == skiff::core::fs::read_file(tar));

  // Saved by id, it has no name: Docker prints its id.
  auto by_id = files.add(box, "by-id.tar");
  REQUIRE(box.run({"save", "-o", by_id.string(), id.substr(7, 12)}).code == 0);
  it::Sandbox third;
  CHECK(third.run({"load", "-q", "-i", by_id.string()}).out == "Loaded image ID: " + id + "\n");
}

TEST_CASE("a truncated, tampered or non-tar archive is refused and leaves the store as it was", "[archive]") {
  it::require_root();
  it::Sandbox box, target;
  Files files;
  auto name = box.name("bad") + ":v1";
  import_own_image(box, files, name);
  std::string tar = box.run({"save", name}).out;
  REQUIRE(tar.size() > 100000);
  REQUIRE(target.run({"images"}).code == 0);  // the store exists, with busybox in it
  auto before = image_store_files(target);

  std::string tampered = tar;
  tampered[tar.size() / 2] = static_cast<char>(tampered[tar.size() / 2] ^ 0x01);  // inside the layer
  struct Case {
    std::string what, bytes, message;
  };
  std::vector<Case> cases = {
      {"truncated", tar.substr(0, tar.size() / 2), "load stdin: "},
      {"truncated gzip", images::gzip_deterministic(tar).substr(0, 40000), "load stdin: "},
      {"tampered layer", tampered, "does not match the diff_id"},
      {"not a tar", std::string(3000, 'x'), "not a tar archive"},
      {"empty", "", "load stdin: "},
      {"a tar but no image", busybox_rootfs_tar(), "not an image archive"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    check_one_line_error(target.run({"load"}, c.bytes), c.message);
    CHECK(image_store_files(target) == before);
  }
  CHECK_FALSE(contains(target.run({"images"}).out, box.name("bad")));
}

TEST_CASE("export holds what the container made and not what it deleted, and imports as an image that runs", "[archive]") {
  it::require_root();
  it::Sandbox box;
  Files files;
  auto c = box.name("exp");
  auto made = box.run({"run", "--name", c, "busybox", "sh", "-c",
                       "echo hi > /made.txt && mkdir -p /new/dir && rm /bin/ls && rm -r /home"});
  REQUIRE(made.code == 0);
  auto tar = files.add(box, "export.tar");
  auto r = box.run({"export", "-o", tar.string(), c});
  INFO("stderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(r.out.empty());

  auto listing = sh("tar -tf " + tar.string());
  REQUIRE(listing.code == 0);
  auto names = lines(listing.out);
  auto has = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  CHECK(has("made.txt"));
  CHECK(has("new/dir/"));
  CHECK(has("bin/busybox"));
  CHECK_FALSE(has("bin/ls"));
  CHECK_FALSE(has("home/"));
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());  // nothing left mounted
  CHECK(box.run({"export", c}).out == skiff::core::fs::read_file(tar));  // stdout: the same tar

  auto image = box.name("exported");
  REQUIRE(box.run({"import", tar.string(), image}).code == 0);
  auto run = box.run({"run", "--rm", image, "sh", "-c", "cat /made.txt; ls /bin/ls"});
  CHECK(run.out == "hi\n");
  CHECK(run.code == 1);  // ls is gone in the image too
}

TEST_CASE("export of a running container sees its files as they are now", "[archive]") {
  it::require_root();
  it::Sandbox box;
  auto c = box.name("live");
  REQUIRE(box.run({"run", "-d", "--name", c, "busybox", "sh", "-c",
                   "touch /ready && sleep 60"}).code == 0);
  box.wait_running(c);
  std::string tar;
  for (int i = 0; i < 50 && !contains(tar, "ready"); ++i) {
    tar = box.run({"export", c}).out;
    ::usleep(100000);
  }
  CHECK(contains(tar, "ready"));
  CHECK(it::mountinfo_lines_containing(box.root().string()).empty());
}

TEST_CASE("save, load and export refuse bad input with one line and exit 1", "[archive]") {
  it::require_root();
  it::Sandbox box;
  Files files;
  check_one_line_error(box.run({"save"}), "\"save\" requires at least 1 argument");
  auto out = files.add(box, "nothing.tar");
  check_one_line_error(box.run({"save", "-o", out.string(), "busybox", "nosuch"}), "No such image: nosuch");
  CHECK_FALSE(stdfs::exists(out));
  for (const auto& e : stdfs::directory_iterator(out.parent_path()))
    CHECK_FALSE(contains(e.path().filename().string(), ".skiff_temp_" + out.filename().string()));
  check_one_line_error(box.run({"load"}, "this is not a tar archive\n"), "not a tar archive");
  check_one_line_error(box.run({"load", "-i", out.string()}), "no such file or directory");
  check_one_line_error(box.run({"load", "extra"}), "\"load\" accepts no arguments");
  check_one_line_error(box.run({"export", "nosuch"}), "No such container: nosuch");
  check_one_line_error(box.run({"export"}), "\"export\" requires exactly 1 argument");
}
