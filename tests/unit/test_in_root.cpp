// tests/unit/test_in_root.cpp — a mount target is resolved inside
// the container's root: symlinks of the image (absolute, with "..", in
// chains) never lead out of it. A temporary tree stands for the root and
// a sibling directory for the host's files. No root needed.
// Lesson: 06-volumes.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/in_root.hpp"
#include "core/fd.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using skiff::core::Fd;
using skiff::testing::TempDir;
using namespace skiff::core;

namespace {

// TMP/root is the container's root; TMP/host stands for the host.
struct Tree {
  TempDir tmp{"skiff-unit-safepath"};
  fs::path root = tmp.path() / "root", host = tmp.path() / "host";
  Fd root_fd;
  Tree() {
    fs::create_directories(root / "etc");
    fs::create_directories(host);
    std::string depth = "../../../../../../../../..";
    fs::create_symlink("/etc", root / "data");                          // absolute
    fs::create_symlink(depth + host.string(), root / "escape");         // .. past the root
    fs::create_symlink(host, root / "abs_host");                        // the host's own path
    fs::create_symlink("chain2", root / "chain1");                      // a chain
    fs::create_symlink("/chain3", root / "chain2");
    fs::create_symlink("../../../../etc", root / "chain3");
    fs::create_symlink("loop", root / "loop");
    std::ofstream(root / "file") << "x";
    root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  std::string where(const Fd& fd) const { return fs::read_symlink(fd_path(fd)).string(); }
};

}  // namespace

TEST_CASE("volume: a plain path resolves to itself, parents made", "[volume]") {
  Tree t;
  auto fd = resolve_in_root(t.root_fd.get(), "/srv/www/html", Create::directory);
  CHECK(t.where(fd) == (t.root / "srv/www/html").string());
  CHECK(fs::is_directory(t.root / "srv/www/html"));
  auto file = resolve_in_root(t.root_fd.get(), "/etc/app.conf", Create::file);
  CHECK(fs::is_regular_file(t.root / "etc/app.conf"));
}

TEST_CASE("volume: symlinks are followed with the root as /", "[volume]") {
  Tree t;
  CHECK(resolved_path(t.root_fd.get(), "/data") == "/etc");
  CHECK(resolved_path(t.root_fd.get(), "/chain1") == "/etc");
  CHECK(resolved_path(t.root_fd.get(), "/etc/../../../..") == "/");
  auto fd = resolve_in_root(t.root_fd.get(), "/data/app", Create::directory);
  CHECK(t.where(fd) == (t.root / "etc/app").string());
  CHECK(fs::is_directory(t.root / "etc/app"));
}

TEST_CASE("volume: no symlink of the image leads out of the root", "[volume]") {
  Tree t;
  for (const char* target : {"/escape/made", "/abs_host/made", "/chain1/../../escape/made"}) {
    INFO(target);
    auto fd = resolve_in_root(t.root_fd.get(), target, Create::directory);
    auto where = t.where(fd);
    CHECK(where.rfind(t.root.string() + "/", 0) == 0);
  }
  CHECK(fs::is_empty(t.host));  // nothing was made on the "host"
  CHECK(fs::is_directory(t.root / t.host.relative_path() / "made"));
}

TEST_CASE("volume: loops, files in the way and missing paths fail clearly", "[volume]") {
  Tree t;
  CHECK_THROWS_WITH(resolve_in_root(t.root_fd.get(), "/loop", Create::directory),
                    "mount target /loop in the container: Too many levels of symbolic links");
  CHECK_THROWS_WITH(resolve_in_root(t.root_fd.get(), "/file/sub", Create::directory),
                    "mount target /file/sub in the container: Not a directory");
  CHECK_THROWS_WITH(resolve_in_root(t.root_fd.get(), "/nothing", Create::nothing),
                    Catch::Contains("No such file or directory"));
  CHECK_FALSE(fs::exists(t.root / "nothing"));
}

TEST_CASE("in root: a mount point that must be a real directory refuses a symlink", "[in_root]") {
  Tree t;
  // /data → /etc is fine to follow for a volume, but /proc or /sys as a
  // link would send the kernel's filesystems over another directory.
  CHECK_THROWS_WITH(resolve_in_root(t.root_fd.get(), "/data", Create::directory, Symlinks::refuse),
                    "/data in the container's root is a symlink (to /etc): refusing to mount over it");
  CHECK_THROWS_WITH(resolve_in_root(t.root_fd.get(), "/data/sub", Create::directory, Symlinks::refuse),
                    Catch::Contains("is a symlink"));
  CHECK_FALSE(fs::exists(t.root / "etc/sub"));
  auto fd = resolve_in_root(t.root_fd.get(), "/proc", Create::directory, Symlinks::refuse);
  CHECK(t.where(fd) == (t.root / "proc").string());
}

TEST_CASE("in root: resolve_if_exists tells absent from broken", "[in_root]") {
  Tree t;
  CHECK_FALSE(resolve_if_exists(t.root_fd.get(), "/no/such").valid());
  CHECK_FALSE(resolve_if_exists(t.root_fd.get(), "/data/none").valid());
  CHECK(resolve_if_exists(t.root_fd.get(), "/file").valid());
  CHECK_THROWS_WITH(resolve_if_exists(t.root_fd.get(), "/loop"), Catch::Contains("Too many levels"));
  CHECK_FALSE(fs::exists(t.root / "no"));
}

TEST_CASE("in root: a new file is never one the image planted", "[in_root]") {
  Tree t;
  // The shape of the hostname.tmp-1 trap: a symlink where a file is to be
  // made. O_EXCL|O_NOFOLLOW fails on it instead of truncating its target.
  std::ofstream(t.host / "precious") << "keep";
  fs::create_symlink(t.host / "precious", t.root / "etc/planted");
  Fd etc(::open((t.root / "etc").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  CHECK_THROWS_WITH(create_new_file(etc.get(), "planted", 0644), Catch::Contains("File exists"));
  std::ifstream in(t.host / "precious");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "keep");
  auto made = create_new_file(etc.get(), "fresh", 0644);
  CHECK(fs::is_regular_file(t.root / "etc/fresh"));
}
