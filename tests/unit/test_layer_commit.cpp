// tests/unit/test_layer_commit.cpp — the pieces of `skiff commit` (lesson
// 05-images): --change instructions as Docker parses them, the new image's
// config, an overlay upper dir written as an OCI layer and unpacked again,
// and the overlay mount options. The upper-dir test needs root (whiteouts
// are 0/0 devices, opaque dirs trusted.* xattrs) and skips without it.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "05-images/commit.hpp"
#include "05-images/diff.hpp"
#include "05-images/overlay.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "temp_dir.hpp"

namespace images = skiff::images;
namespace stdfs = std::filesystem;
using json = nlohmann::json;
using skiff::testing::TempDir;

TEST_CASE("commit --change: CMD and ENTRYPOINT in JSON and shell form") {
  auto c = images::apply_changes({}, {R"(CMD ["echo","hi"])"});
  CHECK(c["Cmd"] == json{"echo", "hi"});
  c = images::apply_changes({}, {"CMD echo hi there"});
  CHECK(c["Cmd"] == json{"/bin/sh", "-c", "echo hi there"});
  c = images::apply_changes({}, {"cmd [not json"});  // Docker: then it is the shell form
  CHECK(c["Cmd"] == json{"/bin/sh", "-c", "[not json"});
  // A new ENTRYPOINT drops the old Cmd, unless CMD came first.
  c = images::apply_changes({{"Cmd", {"old"}}}, {R"(ENTRYPOINT ["/bin/top","-b"])"});
  CHECK(c["Entrypoint"] == json{"/bin/top", "-b"});
  CHECK_FALSE(c.contains("Cmd"));
  c = images::apply_changes({}, {"CMD [\"-n\",\"1\"]", "ENTRYPOINT top"});
  CHECK(c["Cmd"] == json{"-n", "1"});
  CHECK(c["Entrypoint"] == json{"/bin/sh", "-c", "top"});
}

TEST_CASE("commit --change: ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME") {
  json base = {{"Env", {"PATH=/bin", "A=1"}}, {"WorkingDir", "/srv"}};
  auto c = images::apply_changes(base, {"ENV A=2 B=\"two words\"", "ENV LEGACY the rest",
                                        "LABEL version=1.0 \"k two\"=v", "WORKDIR app",
                                        "USER nobody:nogroup", "EXPOSE 80 53/udp 8000-8010",
                                        "VOLUME [\"/data\"]", "STOPSIGNAL SIGINT"});
  CHECK(c["Env"] == json{"PATH=/bin", "A=2", "B=two words", "LEGACY=the rest"});
  CHECK(c["Labels"] == json{{"version", "1.0"}, {"k two", "v"}});
  CHECK(c["WorkingDir"] == "/srv/app");
  CHECK(c["User"] == "nobody:nogroup");
  CHECK(c["ExposedPorts"] == json{{"80/tcp", json::object()}, {"53/udp", json::object()},
                                  {"8000-8010/tcp", json::object()}});
  CHECK(c["Volumes"] == json{{"/data", json::object()}});
  CHECK(c["StopSignal"] == "SIGINT");
}

TEST_CASE("commit --change: what Docker refuses is refused, with one clear line") {
  auto error = [](const std::string& change) {
    try {
      images::apply_changes({}, {change});
    } catch (const skiff::core::Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(error("FROM busybox") == "FROM is not a valid change command");
  CHECK(error("RUN rm -rf /") == "RUN is not a valid change command");
  CHECK(error("CMD") == "CMD requires at least one argument");
  CHECK(error("ENV A=1 B") ==
        "Syntax error - can't find = in \"B\". Must be of the form: name=value");
  CHECK(error("ENV =x") == "ENV names can not be blank");
  CHECK(error("EXPOSE http") == "invalid containerPort: http");
  CHECK(error("EXPOSE 80/xyz") == "invalid proto: xyz");
  CHECK(error("LABEL a=\"unterminated") == "unterminated quote in \"a=\"unterminated\"");
  CHECK(error("   ") == "empty change: expected a Dockerfile instruction");
}

TEST_CASE("a committed config keeps the parent's layers and history and adds one of each") {
  json parent = {{"architecture", "amd64"},
                 {"os", "linux"},
                 {"config", {{"Env", {"PATH=/bin"}}, {"Cmd", {"sh"}}, {"Labels", {{"a", "b"}}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", {"sha256:aaa"}}}},
                 {"history", {{{"created", "2024-01-01T00:00:00Z"}, {"created_by", "base"}}}}};
  images::CommitRequest r;
  r.container = {{"PATH=/bin", "X=1"}, {}, {"sh", "-c", "make"}, "/w", ""};
  r.created_by = "sh -c make";
  r.author = "Ada";
  r.comment = "built";
  r.changes = {"LABEL c=d"};
  auto c = images::committed_config_json(parent, r, "sha256:bbb", "2025-01-01T00:00:00.5Z");
  CHECK(c["created"] == "2025-01-01T00:00:00.5Z");
  CHECK(c["author"] == "Ada");
  CHECK(c["comment"] == "built");
  CHECK(c["architecture"] == "amd64");
  CHECK(c["rootfs"]["diff_ids"] == json{"sha256:aaa", "sha256:bbb"});
  CHECK(c["config"]["Env"] == json{"PATH=/bin", "X=1"});
  CHECK(c["config"]["Cmd"] == json{"sh", "-c", "make"});
  CHECK(c["config"]["WorkingDir"] == "/w");
  CHECK_FALSE(c["config"].contains("User"));
  CHECK(c["config"]["Labels"] == json{{"a", "b"}, {"c", "d"}});
  REQUIRE(c["history"].size() == 2);
  CHECK(c["history"][1] == json{{"created", "2025-01-01T00:00:00.5Z"},
                                {"created_by", "sh -c make"},
                                {"author", "Ada"},
                                {"comment", "built"}});
}

TEST_CASE("overlay options list layers top first, relative to the layers dir when asked") {
  std::vector<stdfs::path> layers = {"/s/images/layers/aaa", "/s/images/layers/bbb"};
  CHECK(images::overlay_options(layers, "/c/upper", "/c/work") ==
        "lowerdir=/s/images/layers/bbb:/s/images/layers/aaa,upperdir=/c/upper,workdir=/c/work");
  CHECK(images::overlay_options(layers, "/c/upper", "/c/work", "/s/images/layers") ==
        "lowerdir=bbb:aaa,upperdir=/c/upper,workdir=/c/work");
}

namespace {

// name → "type size" of every entry of a tar, plus its xattrs.
std::map<std::string, std::string> tar_listing(const stdfs::path& tar) {
  std::map<std::string, std::string> out;
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  REQUIRE(archive_read_open_filename(a, tar.c_str(), 1 << 16) == ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string what = std::to_string(archive_entry_filetype(e)) + " " +
                       std::to_string(archive_entry_size(e));
    if (archive_entry_hardlink(e)) what += " link=" + std::string(archive_entry_hardlink(e));
    // pax carries each xattr twice (LIBARCHIVE.xattr and SCHILY.xattr); the
    // reader reports both.
    std::set<std::string> xattrs;
    archive_entry_xattr_reset(e);
    const char* n;
    const void* v;
    size_t sz;
    while (archive_entry_xattr_next(e, &n, &v, &sz) == ARCHIVE_OK) xattrs.insert(n);
    for (const auto& x : xattrs) what += " " + x;
    out[archive_entry_pathname(e)] = what;
  }
  archive_read_free(a);
  return out;
}

std::string type_size(int type, int size) { return std::to_string(type) + " " + std::to_string(size); }

}  // namespace

TEST_CASE("an overlay upper dir becomes a layer with OCI whiteouts, and unpacks back") {
  if (::geteuid() != 0) {
    WARN("SKIP: an upper dir with whiteouts needs root (mknod 0/0, trusted.* xattrs)");
    return;
  }
  TempDir tmp("skiff-diff");
  auto upper = tmp.path() / "upper";
  stdfs::create_directories(upper / "etc");
  stdfs::create_directories(upper / "data" / "sub");
  skiff::core::fs::write_file_atomic(upper / "etc" / "new.conf", "hello\n");
  REQUIRE(::mknod((upper / "etc" / "motd").c_str(), S_IFCHR, ::makedev(0, 0)) == 0);
  REQUIRE(::lsetxattr((upper / "data").c_str(), "trusted.overlay.opaque", "y", 1, 0) == 0);
  REQUIRE(::lsetxattr((upper / "etc").c_str(), "trusted.overlay.origin", "x", 1, 0) == 0);
  REQUIRE(::lsetxattr((upper / "etc/new.conf").c_str(), "user.note", "n", 1, 0) == 0);
  stdfs::create_hard_link(upper / "etc" / "new.conf", upper / "etc" / "same.conf");
  stdfs::create_symlink("/etc/new.conf", upper / "link");
  stdfs::create_directories(upper / "proc");                           // a mount point
  skiff::core::fs::write_file_atomic(upper / "etc" / "hostname", "");  // a mount point

  auto tar = tmp.path() / "layer.tar";
  auto diff = images::write_layer_from_upper(upper, tar, {"proc", "etc/hostname"});
  CHECK(diff.digest.starts_with("sha256:"));
  CHECK(diff.size == static_cast<int64_t>(stdfs::file_size(tar)));
  auto listing = tar_listing(tar);
  std::string shown;
  for (const auto& [name, what] : listing) shown += name + " " + what + "\n";
  INFO("tar:\n" << shown);
  CHECK(listing == std::map<std::string, std::string>{
                       {"data/", type_size(AE_IFDIR, 0)},
                       {"data/.wh..wh..opq", type_size(AE_IFREG, 0)},
                       {"data/sub/", type_size(AE_IFDIR, 0)},
                       {"etc/", type_size(AE_IFDIR, 0)},
                       {"etc/.wh.motd", type_size(AE_IFREG, 0)},
                       {"etc/new.conf", type_size(AE_IFREG, 6) + " user.note"},
                       {"etc/same.conf", type_size(0, 0) + " link=etc/new.conf user.note"},
                       {"link", type_size(AE_IFLNK, 0)}});
  // The same upper dir always gives the same bytes.
  auto again = tmp.path() / "again.tar";
  CHECK(images::write_layer_from_upper(upper, again, {"proc", "etc/hostname"}).digest == diff.digest);

  auto unpacked = tmp.path() / "unpacked";
  stdfs::create_directory(unpacked);
  images::unpack_layer(tar, unpacked);
  struct stat st {};
  REQUIRE(::lstat((unpacked / "etc/motd").c_str(), &st) == 0);
  CHECK((S_ISCHR(st.st_mode) && st.st_rdev == 0));
  char v[4];
  CHECK(::lgetxattr((unpacked / "data").c_str(), "trusted.overlay.opaque", v, sizeof v) == 1);
  CHECK(skiff::core::fs::read_file(unpacked / "etc/same.conf") == "hello\n");
  CHECK(stdfs::read_symlink(unpacked / "link") == "/etc/new.conf");
}

TEST_CASE("a missing upper dir is an empty layer") {
  TempDir tmp("skiff-diff");
  auto tar = tmp.path() / "layer.tar";
  auto diff = images::write_layer_from_upper(tmp.path() / "none", tar);
  CHECK(tar_listing(tar).empty());
  CHECK(diff.size == static_cast<int64_t>(stdfs::file_size(tar)));
}
