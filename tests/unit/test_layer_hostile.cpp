// tests/unit/test_layer_hostile.cpp — unpacking layers that try to escape
// (lesson 05-images, "a layer comes from the network"). Each layer is
// unpacked into PARENT/layer, where PARENT also holds sentinel files and a
// sentinel directory that symlinks and hard links aim at: nothing outside
// PARENT/layer may be created, changed or deleted, and the error names the
// entry. Whiteout cases need root (mknod, trusted.* xattrs) and skip without it.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "05-images/layer.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace images = skiff::images;
namespace stdfs = std::filesystem;
using images::TarEntry;
using skiff::testing::TempDir;

namespace {

// PARENT with its sentinels, an empty PARENT/layer, and a place for the tar
// outside PARENT.
struct Scene {
  TempDir parent{"skiff-hostile"};
  TempDir tars{"skiff-hostile-tar"};
  Scene() {
    skiff::core::fs::write_file_atomic(parent.path() / "sentinel.txt", "keep me\n");
    stdfs::create_directory(parent.path() / "sentinel-dir");
    skiff::core::fs::write_file_atomic(parent.path() / "sentinel-dir" / "file", "keep me too\n");
    stdfs::create_directory(layer());
  }
  stdfs::path layer() const { return parent.path() / "layer"; }
  std::string abs(const std::string& name) const { return (parent.path() / name).string(); }

  // Every path outside layer/, with its type, mode, size and content.
  std::map<std::string, std::string> outside() const {
    std::map<std::string, std::string> out;
    for (auto it = stdfs::recursive_directory_iterator(parent.path());
         it != stdfs::recursive_directory_iterator(); ++it) {
      if (it->path() == layer()) {
        it.disable_recursion_pending();
        continue;
      }
      struct stat st {};
      ::lstat(it->path().c_str(), &st);
      std::string what = std::to_string(st.st_mode) + " " + std::to_string(st.st_size) + " " +
                         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
      if (S_ISREG(st.st_mode)) what += " " + skiff::core::fs::read_file(it->path());
      out[it->path().string()] = what;
    }
    return out;
  }

  // Unpacks ENTRIES; returns the error message, or "" when it succeeded.
  std::string unpack(const std::vector<TarEntry>& entries) const {
    auto tar = tars.path() / "layer.tar";
    skiff::core::fs::write_file_atomic(tar, images::write_tar(entries));
    try {
      images::unpack_layer(tar, layer());
      return "";
    } catch (const std::exception& e) {
      return e.what();
    }
  }
};

struct Hostile {
  const char* what;
  std::vector<TarEntry> entries;
  const char* error;  // a piece of the error, or "" when it is neutralised
};

bool is_root() { return ::geteuid() == 0; }

}  // namespace

TEST_CASE("hostile layers are refused or neutralised, and nothing outside the layer changes") {
  Scene s;
  const std::vector<Hostile> cases = {
      {"a path with ..", {TarEntry::file("../escape.txt", "x", 0644)}, "climbs out of the layer"},
      {"a deeper ..", {TarEntry::file("a/../../escape.txt", "x", 0644)}, "climbs out of the layer"},
      {"an absolute path", {TarEntry::file("/abs.txt", "x", 0644)}, ""},
      {"a file through an absolute symlink",
       {TarEntry::symlink("link", s.abs("sentinel-dir")), TarEntry::file("link/evil", "x", 0644)},
       "written through the symlink \"link\""},
      {"a file through a ../ symlink",
       {TarEntry::symlink("up", "../sentinel-dir"), TarEntry::file("up/file", "pwned", 0644)},
       "written through the symlink \"up\""},
      {"a file over a symlink replaces the symlink",
       {TarEntry::symlink("link", s.abs("sentinel.txt")), TarEntry::file("link", "pwned", 0644)},
       ""},
      {"a directory over a symlink replaces the symlink, never chmods its target",
       {TarEntry::symlink("link", s.abs("sentinel-dir")), TarEntry::directory("link", 0777)}, ""},
      {"a hard link with ..", {TarEntry::hard_link("h", "../sentinel.txt", 0644)},
       "climbs out of the layer"},
      {"a hard link to an absolute path outside",
       {TarEntry::hard_link("h", s.abs("sentinel.txt"), 0644)}, "which is not in this layer"},
      {"a hard link through a symlink",
       {TarEntry::symlink("link", s.abs("sentinel-dir")),
        TarEntry::hard_link("h", "link/file", 0644)},
       "written through the symlink \"link\""},
      {"a whiteout that climbs out", {TarEntry::file("../.wh.sentinel.txt", "", 0644)},
       "climbs out of the layer"},
      {"a directory replaced by a symlink, then written into",
       {TarEntry::directory("d", 0755), TarEntry::symlink("d", s.abs("sentinel-dir")),
        TarEntry::file("d/evil", "x", 0644)},
       "refused entry \"d"},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto before = s.outside();
      std::string error = s.unpack(c.entries);
      INFO("error: " << error);
      if (*c.error == '\0') CHECK(error.empty());
      else CHECK(error.find(c.error) != std::string::npos);
      CHECK(s.outside() == before);
    }
  }
}

TEST_CASE("a neutralised absolute path lands inside the layer") {
  Scene s;
  REQUIRE(s.unpack({TarEntry::file("/abs.txt", "x", 0644),
                    TarEntry::symlink("link", s.abs("sentinel.txt")),
                    TarEntry::file("link", "mine", 0644)}) == "");
  CHECK(skiff::core::fs::read_file(s.layer() / "abs.txt") == "x");
  CHECK(stdfs::is_regular_file(stdfs::symlink_status(s.layer() / "link")));
  CHECK(skiff::core::fs::read_file(s.layer() / "link") == "mine");
  CHECK(skiff::core::fs::read_file(s.abs("sentinel.txt")) == "keep me\n");
}

namespace {

// One ustar header block, written by hand: libarchive's writer will not put
// data after a hard link entry, but a hostile layer can.
std::string ustar_header(const std::string& name, char type, const std::string& link,
                         size_t size) {
  std::string h(512, '\0');
  auto put = [&](size_t at, size_t width, const std::string& v) { h.replace(at, v.size(), v); (void)width; };
  auto octal = [](size_t v, int digits) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%0*zo", digits, v);
    return std::string(buf);
  };
  put(0, 100, name);
  put(100, 8, octal(0644, 7));
  put(108, 8, octal(0, 7));
  put(116, 8, octal(0, 7));
  put(124, 12, octal(size, 11));
  put(136, 12, octal(0, 11));
  put(148, 8, "        ");
  h[156] = type;
  put(157, 100, link);
  put(257, 6, std::string("ustar\0", 6));
  put(263, 2, "00");
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  put(148, 8, octal(sum, 6) + std::string("\0 ", 2));
  return h;
}

std::string padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

}  // namespace

TEST_CASE("a hard link to a symlink never writes its data through the symlink") {
  Scene s;
  std::string tar = ustar_header("s", '2', s.abs("sentinel.txt"), 0) +
                    ustar_header("h", '1', "s", 5) + padded("pwned") + std::string(1024, '\0');
  auto file = s.tars.path() / "layer.tar";
  skiff::core::fs::write_file_atomic(file, tar);
  auto before = s.outside();
  std::string error;
  try {
    images::unpack_layer(file, s.layer());
  } catch (const std::exception& e) {
    error = e.what();
  }
  INFO("error: " << error);
  CHECK(s.outside() == before);
  CHECK(skiff::core::fs::read_file(s.abs("sentinel.txt")) == "keep me\n");
  // The link was made (to the symlink itself), without the data.
  CHECK(stdfs::is_symlink(s.layer() / "h"));
}

TEST_CASE("whiteouts become overlayfs whiteouts and opaque directories, inside the layer only") {
  if (!is_root()) {
    WARN("SKIP: whiteouts need root (mknod of a 0/0 device, trusted.* xattrs)");
    return;
  }
  Scene s;
  auto before = s.outside();
  REQUIRE(s.unpack({TarEntry::directory("etc", 0755), TarEntry::file("etc/.wh.motd", "", 0644),
                    TarEntry::file("usr/share/.wh..wh..opq", "", 0644),
                    TarEntry::file("usr/.wh..wh.plnk", "", 0644),
                    TarEntry::file("keep", "k", 0644), TarEntry::file(".wh.keep", "", 0644)}) == "");
  struct stat st {};
  REQUIRE(::lstat((s.layer() / "etc/motd").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == 0);
  char v[4] = {};
  CHECK(::lgetxattr((s.layer() / "usr/share").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
  CHECK(v[0] == 'y');
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(s.layer() / "usr/.wh..wh.plnk")));
  CHECK_FALSE(stdfs::exists(stdfs::symlink_status(s.layer() / "etc/.wh.motd")));
  CHECK(skiff::core::fs::read_file(s.layer() / "keep") == "k");  // same layer: kept
  CHECK(s.outside() == before);
}

TEST_CASE("a directory deleted and made again in one layer becomes opaque") {
  if (!is_root()) {
    WARN("SKIP: whiteouts need root");
    return;
  }
  Scene s;
  REQUIRE(s.unpack({TarEntry::file(".wh.data", "", 0644), TarEntry::directory("data", 0755),
                    TarEntry::file("data/new", "n", 0644)}) == "");
  CHECK(stdfs::is_directory(s.layer() / "data"));
  char v[4] = {};
  CHECK(::lgetxattr((s.layer() / "data").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
  CHECK(v[0] == 'y');
}

TEST_CASE("whiteouts through symlinks or naming .. are refused") {
  if (!is_root()) {
    WARN("SKIP: whiteouts need root");
    return;
  }
  Scene s;
  const std::vector<Hostile> cases = {
      {"a whiteout through a symlink",
       {TarEntry::symlink("link", s.abs("sentinel-dir")), TarEntry::file("link/.wh.file", "", 0644)},
       "written through the symlink \"link\""},
      {"an opaque marker through a symlink",
       {TarEntry::symlink("link", s.abs("sentinel-dir")),
        TarEntry::file("link/.wh..wh..opq", "", 0644)},
       "written through the symlink \"link\""},
      {"a whiteout of ..", {TarEntry::file("sub/.wh...", "", 0644)}, "not \"..\""},
      {"a whiteout of .", {TarEntry::file("sub/.wh..", "", 0644)}, "not \".\""},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      auto before = s.outside();
      std::string error = s.unpack(c.entries);
      INFO("error: " << error);
      CHECK(error.find(c.error) != std::string::npos);
      CHECK(s.outside() == before);
      char v[4];
      CHECK(::lgetxattr(s.abs("sentinel-dir").c_str(), "trusted.overlay.opaque", v, sizeof v) < 0);
    }
  }
}

TEST_CASE("a layer cannot plant overlayfs' own xattrs") {
  if (!is_root()) {
    WARN("SKIP: trusted.* xattrs need root");
    return;
  }
  Scene s;
  TarEntry d = TarEntry::directory("d", 0755);
  d.xattrs = {{"trusted.overlay.redirect", "/etc"}, {"trusted.overlay.opaque", "y"},
              {"user.note", "kept"}};
  REQUIRE(s.unpack({d}) == "");
  char v[16];
  CHECK(::lgetxattr((s.layer() / "d").c_str(), "trusted.overlay.redirect", v, sizeof v) < 0);
  CHECK(::lgetxattr((s.layer() / "d").c_str(), "trusted.overlay.opaque", v, sizeof v) < 0);
  ssize_t n = ::lgetxattr((s.layer() / "d").c_str(), "user.note", v, sizeof v);
  CHECK(std::string(v, n > 0 ? static_cast<size_t>(n) : 0) == "kept");
}

TEST_CASE("a zstd-compressed layer unpacks, and its diff_id is that of its tar") {
  Scene s;
  std::string tar = images::write_tar({TarEntry::directory("etc", 0755),
                                       TarEntry::file("etc/zstd.txt", "squeezed\n", 0644)});
  std::string zst = images::zstd_compress(tar);
  REQUIRE(zst.size() >= 4);
  CHECK(zst.substr(0, 4) == std::string("\x28\xb5\x2f\xfd", 4));  // zstd's magic number
  auto file = s.tars.path() / "layer.tar.zst";
  skiff::core::fs::write_file_atomic(file, zst);
  images::unpack_layer(file, s.layer());
  CHECK(skiff::core::fs::read_file(s.layer() / "etc/zstd.txt") == "squeezed\n");
  auto plain = s.tars.path() / "layer.tar";
  skiff::core::fs::write_file_atomic(plain, tar);
  CHECK(images::uncompressed_digest(file).digest == images::uncompressed_digest(plain).digest);
  CHECK(images::uncompressed_digest(file).size == static_cast<int64_t>(tar.size()));
}
