// tests/unit/test_layer_parallel.cpp — a layer big enough to be unpacked by
// several threads gives exactly what one thread in archive order gives:
// a name written twice keeps its last content, a hard link finds its target,
// a whiteout of this layer's own file keeps the file, directory modes and
// times are those of the archive, and a hostile entry is still refused.
// Lesson: lessons/05-images ("a layer is a tarball").
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "05-images/layer.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace images = skiff::images;
namespace stdfs = std::filesystem;
using images::TarEntry;
using skiff::testing::TempDir;

namespace {

// 400 plain files in 8 directories: well over the threshold for threads.
std::vector<TarEntry> many_files() {
  std::vector<TarEntry> entries;
  for (int d = 0; d < 8; ++d) {
    auto dir = TarEntry::directory("d" + std::to_string(d), 0755);
    dir.mtime = 1'000'000 + d;
    entries.push_back(dir);
    for (int f = 0; f < 50; ++f) {
      auto file = TarEntry::file("d" + std::to_string(d) + "/f" + std::to_string(f),
                                 "content " + std::to_string(d) + "/" + std::to_string(f) + "\n", 0640);
      file.mtime = 2'000'000 + f;
      entries.push_back(file);
    }
  }
  return entries;
}

stdfs::path write_layer(const TempDir& dir, const std::vector<TarEntry>& entries) {
  auto tar = dir.path() / "layer.tar";
  skiff::core::fs::write_file_atomic(tar, images::write_tar(entries));
  return tar;
}

struct stat stat_of(const stdfs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st;
}

}  // namespace

TEST_CASE("a layer unpacked by several threads matches the archive in order", "[layer][unit]") {
  TempDir tars("skiff-par-tar"), out("skiff-par-out");
  auto entries = many_files();
  // The same name twice: the later content wins.
  entries.push_back(TarEntry::file("d0/f0", "second\n", 0600));
  // A hard link to a plain file of this layer.
  entries.push_back(TarEntry::hard_link("d1/link", "d1/f1", 0640));
  // A read-only directory that receives files: its mode is applied last.
  entries.push_back(TarEntry::directory("ro", 0555));
  for (int f = 0; f < 5; ++f) entries.push_back(TarEntry::file("ro/f" + std::to_string(f), "x\n", 0444));
  images::unpack_layer(write_layer(tars, entries), out.path());

  CHECK(skiff::core::fs::read_file(out.path() / "d0/f0") == "second\n");
  CHECK((stat_of(out.path() / "d0/f0").st_mode & 07777) == 0600);
  CHECK(skiff::core::fs::read_file(out.path() / "d7/f49") == "content 7/49\n");
  CHECK((stat_of(out.path() / "d7/f49").st_mode & 07777) == 0640);
  CHECK(stat_of(out.path() / "d7/f49").st_mtim.tv_sec == 2'000'049);
  CHECK(stat_of(out.path() / "d1/link").st_ino == stat_of(out.path() / "d1/f1").st_ino);
  CHECK(stat_of(out.path() / "d1/f1").st_nlink == 2);
  // Directory times survive the files written into them afterwards.
  CHECK(stat_of(out.path() / "d3").st_mtim.tv_sec == 1'000'003);
  CHECK((stat_of(out.path() / "ro").st_mode & 07777) == 0555);
  CHECK(skiff::core::fs::read_file(out.path() / "ro/f4") == "x\n");
  size_t count = 0;
  for ([[maybe_unused]] const auto& e : stdfs::recursive_directory_iterator(out.path())) ++count;
  CHECK(count == 8 + 400 + 1 + 1 + 5);
  // The process's umask is what it was (threads read it by setting it).
  mode_t now = ::umask(022);
  ::umask(now);
  CHECK(now == 022);
}

TEST_CASE("a whiteout of a file of the same big layer keeps the file, in either order", "[layer][unit]") {
  if (::geteuid() != 0) {
    WARN("SKIP: whiteouts need root (mknod of a 0/0 device)");
    return;
  }
  TempDir tars("skiff-par-tar"), out("skiff-par-out");
  auto entries = many_files();
  entries.push_back(TarEntry::file("d2/.wh.f3", "", 0644));  // after d2/f3
  entries.insert(entries.begin() + 1, TarEntry::file("d0/.wh.f7", "", 0644));  // before d0/f7
  images::unpack_layer(write_layer(tars, entries), out.path());
  CHECK(S_ISREG(stat_of(out.path() / "d2/f3").st_mode));
  CHECK(S_ISREG(stat_of(out.path() / "d0/f7").st_mode));
  CHECK(skiff::core::fs::read_file(out.path() / "d0/f7") == "content 0/7\n");
}

TEST_CASE("a hostile entry in a big layer is refused and nothing escapes", "[layer][unit]") {
  TempDir tars("skiff-par-tar"), parent("skiff-par-out");
  auto layer = parent.path() / "layer";
  stdfs::create_directory(layer);
  auto entries = many_files();
  entries.push_back(TarEntry::symlink("d5/out", "../../.."));
  entries.push_back(TarEntry::file("d5/out/escaped", "no\n", 0644));
  CHECK_THROWS_WITH(images::unpack_layer(write_layer(tars, entries), layer),
                    Catch::Contains("written through the symlink \"d5/out\""));
  CHECK_FALSE(stdfs::exists(parent.path() / "escaped"));
  CHECK_FALSE(stdfs::exists(parent.path().parent_path() / "escaped"));
}
