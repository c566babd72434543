// tests/integration/test_hostile_images.cpp — images built to attack the
// host, each against sentinels beside the store: a host directory and a
// host file whose every byte is compared after the attack. Each trap is
// its own image, made by the test (an imported tar, or layers written
// straight into the store's OCI layout). The runtime must either run the
// container with the trap resolved inside its root, or refuse it with one
// clear line and leave nothing behind; the sentinels never change.
// Lessons: 11-security (and 02, 03, 05, 06 for the mechanisms). Needs root.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>
#include <map>
#include <nlohmann/json.hpp>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "05-images/oci.hpp"
#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::trim;
namespace images = skiff::images;
namespace oci = skiff::images::oci;
namespace stdfs = std::filesystem;
using E = images::TarEntry;

namespace {

// A host directory with a file in it, and a host file, outside the store.
struct Sentinels {
  stdfs::path dir = stdfs::temp_directory_path() / ("skiff-it-sentinel-" + std::to_string(::getpid()));
  stdfs::path file = dir.string() + "-file";
  std::map<std::string, std::string> before;
  Sentinels() {
    clean();
    stdfs::create_directories(dir);
    skiff::core::fs::write_file_atomic(dir / "precious", "host data, keep\n");
    skiff::core::fs::write_file_atomic(file, "host file, keep\n");
    before = snapshot();
  }
  ~Sentinels() { clean(); }
  void clean() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
    stdfs::remove(file, ec);
  }
  // Every entry of the directory, and the file, with their contents.
  std::map<std::string, std::string> snapshot() const {
    std::map<std::string, std::string> out;
    for (const auto& e : stdfs::recursive_directory_iterator(dir))
      out[e.path().string()] = e.is_regular_file() ? it::read_file(e.path()) : "(not a file)";
    out[file.string()] = stdfs::is_symlink(file) ? "(a symlink)" : it::read_file(file);
    return out;
  }
  bool unchanged() const { return snapshot() == before; }
};

std::vector<E> busybox_entries() {
  return {E::directory("bin", 0755),
          E::file("bin/busybox", skiff::core::fs::read_file(images::kBusyboxBinary), 0755),
          E::symlink("bin/sh", "busybox")};
}

// Imports ENTRIES (after busybox) as the image NAME:1.
std::string import_image(it::Sandbox& box, const std::string& what, std::vector<E> extra) {
  auto entries = busybox_entries();
  entries.insert(entries.end(), extra.begin(), extra.end());
  auto tar = box.root().parent_path() / (box.root().filename().string() + "-" + what + ".tar");
  skiff::core::fs::write_file_atomic(tar, images::write_tar(entries));
  auto image = box.name(what) + ":1";
  auto r = box.run({"import", tar.string(), image});
  std::error_code ec;
  stdfs::remove(tar, ec);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return image;
}

// The built-in busybox with LAYERS on top, written into the store's OCI
// layout as NAME (the layers are checked when the image is first run).
std::string layered_image(it::Sandbox& box, const std::string& what,
                          const std::vector<std::vector<E>>& layers) {
  auto dir = box.root() / "images";
  images::Store(dir).ensure_builtin_busybox();
  oci::Layout layout(dir);
  nlohmann::json manifest, config;
  for (const auto& d : layout.read_index())
    if (d.ref_name() == "docker.io/library/busybox:latest") {
      manifest = nlohmann::json::parse(layout.read_blob(d));
      config = nlohmann::json::parse(layout.read_blob(oci::descriptor_from_json(manifest["config"])));
    }
  REQUIRE(manifest.is_object());
  for (const auto& entries : layers) {
    std::string tar = images::write_tar(entries);
    manifest["layers"].push_back(oci::descriptor_to_json(layout.put_blob(oci::kLayerTarType, tar)));
    config["rootfs"]["diff_ids"].push_back("sha256:" + oci::sha256_hex(tar));
  }
  manifest["config"] = oci::descriptor_to_json(layout.put_blob(oci::kConfigType, config.dump()));
  auto name = box.name(what);
  layout.set_ref(layout.put_blob(oci::kManifestType, manifest.dump()), "docker.io/library/" + name + ":latest");
  return name;
}

}  // namespace

TEST_CASE("hostile image: /etc as a link to a host directory gets no file made there", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  auto image = import_image(box, "etclink", {E::symlink("etc", host.dir.string())});
  auto r = box.run({"run", "--rm", "--hostname", "inside", image, "busybox", "cat", "/etc/hostname"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == "inside");  // bound where the container sees its /etc: inside the root
  CHECK(host.unchanged());
  CHECK_FALSE(stdfs::exists(host.dir / "hostname"));
  CHECK_FALSE(stdfs::exists(host.dir / "hosts"));
}

TEST_CASE("hostile image: a planted temporary name cannot truncate a host file", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  // The shape of the old hole: no /etc/hostname, and every name a runtime
  // might write first pointing at the host file (the pid is 1 inside).
  std::vector<E> traps = {E::directory("etc", 0755)};
  for (const char* name : {"hostname.tmp-1", "hostname.tmp-2", "hosts.tmp-1", "hosts.tmp-2"})
    traps.push_back(E::symlink(std::string("etc/") + name, host.file.string()));
  auto image = import_image(box, "tmptrap", traps);
  auto r = box.run({"run", "--rm", image, "sh", "-c", "busybox cat /etc/hostname >/dev/null && echo ran"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == "ran");
  CHECK(host.unchanged());
}

TEST_CASE("hostile image: /proc, /sys or /dev as a symlink is refused with a clear error", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  for (const char* dir : {"proc", "sys", "dev"}) {
    INFO(dir);
    auto image = import_image(box, std::string(dir) + "link", {E::symlink(dir, host.dir.string())});
    auto before = box.container_entries();
    auto r = box.run({"run", "--rm", image, "true"});
    CHECK(r.code == 125);
    CHECK(contains(r.err, std::string("/") + dir + " in the container's root is a symlink (to " +
                              host.dir.string() + "): refusing to mount over it"));
    CHECK(it::lines(r.err).size() == 1);
    CHECK(box.container_entries() == before);  // --rm: nothing left of the failed start
    CHECK(host.unchanged());
    CHECK(it::mountinfo_lines_containing(host.dir.string()).empty());
  }
}

TEST_CASE("hostile image: /etc/hosts pointing into /proc is not mounted over", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  auto image = import_image(box, "hostsproc",
                            {E::directory("etc", 0755), E::symlink("etc/hosts", "/proc/sys/kernel/core_pattern")});
  auto r = box.run({"run", "--rm", image, "true"});
  CHECK(r.code == 125);
  CHECK(contains(r.err, "the image's /etc/hosts leads into /proc or /sys: refusing to mount over it"));
  CHECK(host.unchanged());
}

TEST_CASE("hostile image: a FIFO or an endless /etc/passwd does not hang the start", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto fifo = import_image(box, "fifo", {E::directory("etc", 0755)});
  // No tar entry for a FIFO in the test writer: make it in a container and commit.
  auto maker = box.name("fifomaker");
  REQUIRE(box.run({"run", "--name", maker, fifo, "busybox", "mkfifo", "/etc/passwd"}).code == 0);
  auto hostile = box.name("fifoimg") + ":1";
  REQUIRE(box.run({"commit", maker, hostile}).code == 0);
  auto r = box.run({"run", "--rm", hostile, "busybox", "echo", "started"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == "started");
  CHECK(r.wall_seconds < 30);
  auto endless = import_image(box, "zero", {E::directory("etc", 0755), E::symlink("etc/group", "/dev/zero")});
  r = box.run({"run", "--rm", endless, "busybox", "echo", "started"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(trim(r.out) == "started");
  REQUIRE(box.run({"rm", maker}).code == 0);
}

TEST_CASE("hostile layers: a link out, then a write through it or a hard link to the host", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  struct Trap {
    const char* what;
    std::vector<std::vector<E>> layers;
  };
  std::vector<Trap> traps = {
      // Layer 1 makes /etc a link to the host directory, layer 2 writes in it.
      {"writethrough",
       {{E::symlink("etc", host.dir.string())}, {E::directory("etc", 0755), E::file("etc/precious", "pwned\n", 0644)}}},
      // A hard link to the host file, under the name skiff binds over.
      {"hardlink", {{E::directory("etc", 0755), E::hard_link("etc/hostname", host.file.string(), 0644)}}},
      // Whiteout of /proc, then /proc as a link out.
      {"whiteout", {{E::file(".wh.proc", "", 0644)}, {E::symlink("proc", host.dir.string())}}},
  };
  for (const auto& t : traps) {
    INFO(t.what);
    auto image = layered_image(box, t.what, t.layers);
    auto r = box.run({"run", "--rm", image, "sh", "-c", "echo pwned > /etc/precious; echo pwned > /etc/hostname"});
    INFO(r.out << r.err);
    if (r.code != 0) CHECK(it::lines(r.err).size() == 1);  // refused: one clear line
    CHECK(host.unchanged());
  }
}

TEST_CASE("hostile volume: a symlink raced into a shared volume does not redirect copy-up", "[kernel]") {
  it::require_root();
  Sentinels host;
  it::Sandbox box;
  auto vol = box.name("racevol");
  // Container A shares the volume and keeps swapping a link to the host
  // directory in and out of it, where copy-up will make "conf".
  auto racer = box.name("racer");
  auto plain = import_image(box, "racer", {});
  REQUIRE(box.run({"run", "-d", "--name", racer, "-v", vol + ":/v", "--", plain, "sh", "-c",
                   "while :; do ln -s " + host.dir.string() + " /v/conf; rm -f /v/conf; done"}).code == 0);
  // Container B's image has /data/conf/x: every start copies it up into an
  // empty volume. Some starts lose the race and are refused; none writes
  // through the link.
  auto image = import_image(box, "copyup", {E::directory("data", 0755), E::directory("data/conf", 0755),
                                            E::file("data/conf/x", "image data\n", 0644)});
  for (int i = 0; i < 25; ++i) {
    auto r = box.run({"run", "--rm", "-v", vol + ":/data", image, "true"});
    INFO(r.err);
    CHECK(host.unchanged());
    CHECK_FALSE(stdfs::exists(host.dir / "x"));
    // Whatever copy-up made, the racer's loop needs the volume empty again.
    box.run({"exec", racer, "sh", "-c", "rm -rf /v/conf /v/x"});
  }
  REQUIRE(box.run({"rm", "-f", racer}).code == 0);
  REQUIRE(box.run({"volume", "rm", vol}).code == 0);
}

TEST_CASE("inherited descriptors never reach the container, in run or in exec", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  // As `exec 7</etc/passwd 8</` would leave them: open without O_CLOEXEC
  // in the process that starts skiff. A directory fd of the host is the
  // CVE-2024-21626 shape: fchdir to it is a way out of the root.
  int file = ::open("/etc/passwd", O_RDONLY);
  int dir = ::open("/", O_RDONLY | O_DIRECTORY);
  REQUIRE(::dup2(file, 7) == 7);
  REQUIRE(::dup2(dir, 8) == 8);
  ::close(file);
  ::close(dir);
  auto list = "for f in /proc/self/fd/*; do echo ${f##*/}; done";
  auto run = box.run({"run", "--rm", "busybox", "sh", "-c", list});
  auto name = box.name("fds");
  REQUIRE(box.run({"run", "-d", "--name", name, "busybox", "sleep", "300"}).code == 0);
  auto exec = box.run({"exec", name, "sh", "-c", list});
  // (exec >: a redirection of the loop would make the shell keep a copy of stdout)
  auto exec_d = box.run({"exec", "-d", name, "sh", "-c", std::string("exec > /tmp/fds; ") + list});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto detached = box.run({"exec", name, "cat", "/tmp/fds"});
  ::close(7);
  ::close(8);
  INFO(run.err << exec.err << exec_d.err);
  // The shell's own loop holds one more (the directory it lists: 3).
  CHECK(it::lines(run.out) == std::vector<std::string>{"0", "1", "2", "3"});
  CHECK(it::lines(exec.out) == std::vector<std::string>{"0", "1", "2", "3"});
  CHECK(it::lines(detached.out) == std::vector<std::string>{"0", "1", "2", "3"});
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
}
