// tests/unit/test_copy_up.cpp — copy-up into a volume through fds only:
// the image's tree arrives whole, and an entry raced into the volume (a
// symlink to the host) is refused, never followed. No root needed.
// Lessons: 06-volumes, 11-security.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "06-volumes/copy_up.hpp"
#include "core/fd.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using skiff::core::Fd;
using skiff::testing::TempDir;
using namespace skiff::volumes;

namespace {

Fd dir_fd(const fs::path& p) { return Fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); }

std::string read(const fs::path& p) {
  std::ifstream in(p);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

struct Trees {
  TempDir tmp{"skiff-unit-copyup"};
  fs::path image = tmp.path() / "image", volume = tmp.path() / "volume", host = tmp.path() / "host";
  Trees() {
    fs::create_directories(image / "conf/deep");
    fs::create_directories(volume);
    fs::create_directories(host);
    std::ofstream(image / "conf/app.ini") << "port=80\n";
    std::ofstream(image / "conf/deep/x") << "x";
    fs::create_symlink("/etc/passwd", image / "conf/link");
    ::chmod((image / "conf/app.ini").c_str(), 0640);
    ::chmod((image / "conf").c_str(), 0750);
  }
};

}  // namespace

TEST_CASE("copy-up: the image's directory arrives whole, links as links", "[volume]") {
  Trees t;
  auto from = dir_fd(t.image), to = dir_fd(t.volume);
  CHECK(empty_directory(to.get()));
  copy_tree(from.get(), to.get());
  CHECK(read(t.volume / "conf/app.ini") == "port=80\n");
  CHECK(read(t.volume / "conf/deep/x") == "x");
  CHECK(fs::read_symlink(t.volume / "conf/link") == "/etc/passwd");
  CHECK((fs::status(t.volume / "conf/app.ini").permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  CHECK((fs::status(t.volume / "conf").permissions() & fs::perms::all) ==
        (fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec));
  CHECK_FALSE(empty_directory(to.get()));
}

TEST_CASE("copy-up: a symlink raced into the volume is refused, not followed", "[volume]") {
  Trees t;
  // What a container sharing the volume could do between the emptiness
  // check and the copy: put a link to a host directory where the copy will
  // make "conf".
  fs::create_symlink(t.host, t.volume / "conf");
  auto from = dir_fd(t.image), to = dir_fd(t.volume);
  CHECK_THROWS_WITH(copy_tree(from.get(), to.get()), Catch::Contains("mkdirat(conf)"));
  CHECK(fs::is_empty(t.host));
}

TEST_CASE("copy-up: a symlink raced in where a file goes is refused too", "[volume]") {
  Trees t;
  fs::create_directories(t.tmp.path() / "flat");
  std::ofstream(t.tmp.path() / "flat/a.txt") << "data";
  fs::create_symlink(t.host / "target", t.volume / "a.txt");
  auto from = dir_fd(t.tmp.path() / "flat"), to = dir_fd(t.volume);
  CHECK_THROWS_WITH(copy_tree(from.get(), to.get()), Catch::Contains("openat(a.txt)"));
  CHECK(fs::is_empty(t.host));  // O_CREAT|O_EXCL|O_NOFOLLOW made nothing through the link
}
