// tests/unit/test_volume_parse.cpp — run's -v, --mount and --tmpfs read as
// Docker reads them, and the mount(2) calls planned from them. No root.
// Lesson: 06-volumes.
#include <sys/mount.h>

#include <catch2/catch.hpp>

#include "06-volumes/mounts.hpp"
#include "06-volumes/volumes.hpp"
#include "core/error.hpp"

using namespace skiff::volumes;
using skiff::core::Error;

TEST_CASE("volume: -v reads the anonymous, named and bind forms", "[volume]") {
  auto anon = parse_volume_flag("/data");
  CHECK(anon.kind == Kind::volume);
  CHECK(anon.anonymous);
  CHECK(anon.name.empty());
  CHECK(anon.destination == "/data");
  CHECK(anon.bind_spec.empty());

  auto named = parse_volume_flag("cache:/var/cache/:ro");
  CHECK(named.kind == Kind::volume);
  CHECK(named.name == "cache");
  CHECK(named.destination == "/var/cache");
  CHECK(named.read_only);
  CHECK(named.mode == "ro");
  CHECK(named.copy_up);
  CHECK(named.bind_spec == "cache:/var/cache/:ro");

  auto bind = parse_volume_flag("/srv//www:/usr/share/html");
  CHECK(bind.kind == Kind::bind);
  CHECK(bind.source == "/srv/www");
  CHECK(bind.create_source);
  CHECK_FALSE(bind.copy_up);
  CHECK_FALSE(bind.read_only);

  auto anon_ro = parse_volume_flag("/data:ro");
  CHECK(anon_ro.anonymous);
  CHECK(anon_ro.read_only);

  CHECK_FALSE(parse_volume_flag("v1:/d:rw,nocopy").copy_up);
}

TEST_CASE("volume: -v refuses bad modes, relative paths and names that are paths", "[volume]") {
  CHECK_THROWS_WITH(parse_volume_flag("/tmp:/x:rx"), "invalid mode: rx");
  CHECK_THROWS_WITH(parse_volume_flag("v1:/x:"), "invalid mode: ");
  CHECK_THROWS_WITH(parse_volume_flag("./x:/y"), Catch::Contains("\"./x\" includes invalid characters") &&
                                                     Catch::Contains("use absolute path"));
  CHECK_THROWS_WITH(parse_volume_flag("x/y:/z"), Catch::Contains("\"x/y\" includes invalid characters"));
  CHECK_THROWS_WITH(parse_volume_flag("..:/z"), Catch::Contains("\"..\" includes invalid characters"));
  CHECK_THROWS_WITH(parse_volume_flag("v1:rel"), Catch::Contains("mount path must be absolute"));
  CHECK_THROWS_WITH(parse_volume_flag("/tmp:/"), Catch::Contains("destination can't be '/'"));
  CHECK_THROWS_WITH(parse_volume_flag("v1:/proc/sys"), Catch::Contains("located inside \"/proc\""));
  CHECK_THROWS_WITH(parse_volume_flag("a:/b:ro:x"), "invalid volume specification: 'a:/b:ro:x'");
  CHECK_THROWS_WITH(parse_volume_flag(""), "invalid volume specification: ''");
  try {
    parse_volume_flag("/tmp:/x:rx");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 125);
  }
}

TEST_CASE("volume: names follow Docker's rule", "[volume]") {
  for (const char* good : {"ab", "data", "my-vol_1.2", "0abc"}) CHECK(valid_volume_name(good));
  for (const char* bad : {"", "a", "..", "/x", "a/b", "-ab", ".ab", "a b", "ab:c"})
    CHECK_FALSE(valid_volume_name(bad));
  CHECK(VolumeStore::new_anonymous_name().size() == 64);
  CHECK(VolumeStore::new_anonymous_name() != VolumeStore::new_anonymous_name());
}

TEST_CASE("volume: --mount reads its keys and aliases", "[volume]") {
  auto b = parse_mount_flag("type=bind,src=/h,dst=/c,readonly");
  CHECK(b.kind == Kind::bind);
  CHECK(b.source == "/h");
  CHECK(b.destination == "/c");
  CHECK(b.read_only);

  auto v = parse_mount_flag("source=data,target=/d");
  CHECK(v.kind == Kind::volume);  // the default type
  CHECK(v.name == "data");
  CHECK(v.source.empty());
  CHECK_FALSE(v.read_only);

  auto a = parse_mount_flag("type=volume,destination=/d,ro=true,volume-nocopy");
  CHECK(a.anonymous);
  CHECK(a.read_only);
  CHECK_FALSE(a.copy_up);

  auto t = parse_mount_flag("type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777");
  CHECK(t.kind == Kind::tmpfs);
  CHECK(t.fstype == "tmpfs");
  CHECK(t.options == "nosuid,nodev,size=1m,mode=1777");
}

TEST_CASE("volume: --mount refuses what Docker refuses", "[volume]") {
  CHECK_THROWS_WITH(parse_mount_flag("type=bind,target=/x"),
                    "invalid mount config for type \"bind\": field Source must not be empty");
  CHECK_THROWS_WITH(parse_mount_flag("type=bind,source=/x"),
                    "invalid mount config for type \"bind\": field Target must not be empty");
  CHECK_THROWS_WITH(parse_mount_flag("type=tmpfs,source=x,target=/t"),
                    "invalid mount config for type \"tmpfs\": field Source must not be specified");
  CHECK_THROWS_WITH(parse_mount_flag("type=bind,source=rel,target=/t"), Catch::Contains("must be absolute"));
  CHECK_THROWS_WITH(parse_mount_flag("type=nfs,target=/t"), Catch::Contains("invalid mount type"));
  CHECK_THROWS_WITH(parse_mount_flag("target=/t,colour=red"), Catch::Contains("unexpected key 'colour'"));
  CHECK_THROWS_WITH(parse_mount_flag("source=../etc,target=/t"), Catch::Contains("invalid characters"));
  CHECK_THROWS_WITH(parse_mount_flag("target=/t,readonly=maybe"), Catch::Contains("invalid value"));
}

TEST_CASE("volume: --tmpfs takes Docker's defaults, then the user's options", "[volume]") {
  auto t = parse_tmpfs_flag("/run:size=64m,mode=1777");
  CHECK(t.kind == Kind::tmpfs);
  CHECK(t.destination == "/run");
  CHECK(t.options == "noexec,nosuid,nodev,size=64m,mode=1777");
  auto call = plan_mount(t);
  CHECK(call.fstype == "tmpfs");
  CHECK(call.flags == (MS_NOEXEC | MS_NOSUID | MS_NODEV));
  CHECK(call.data == "size=64m,mode=1777");
  CHECK_FALSE(call.remount_read_only);

  auto exec = plan_mount(parse_tmpfs_flag("/t:exec,ro"));
  CHECK(exec.flags == (MS_NOSUID | MS_NODEV | MS_RDONLY));
  CHECK(exec.data.empty());
  CHECK_THROWS_WITH(parse_tmpfs_flag("rel"), Catch::Contains("must be absolute"));
}

TEST_CASE("volume: a bind is planned as MS_BIND|MS_REC, read-only by a second call", "[volume]") {
  auto m = parse_volume_flag("/h:/c:ro");
  auto call = plan_mount(m);
  CHECK(call.source == "/h");
  CHECK(call.flags == (MS_BIND | MS_REC));
  CHECK(call.fstype.empty());
  CHECK(call.remount_read_only);

  Mount tmpfs_volume;  // volume create -o type=tmpfs -o device=tmpfs -o o=size=1m
  tmpfs_volume.fstype = "tmpfs";
  tmpfs_volume.device = "tmpfs";
  tmpfs_volume.options = "size=1m";
  auto t = plan_mount(tmpfs_volume);
  CHECK(t.source == "tmpfs");
  CHECK(t.fstype == "tmpfs");
  CHECK(t.flags == 0);
  CHECK(t.data == "size=1m");
}

TEST_CASE("volume: mounts are ordered parent first, and a destination is used once", "[volume]") {
  auto out = ordered({parse_volume_flag("/a/b/c"), parse_volume_flag("v1:/a"), parse_tmpfs_flag("/a/b")});
  REQUIRE(out.size() == 3);
  CHECK(out[0].destination == "/a");
  CHECK(out[1].destination == "/a/b");
  CHECK(out[2].destination == "/a/b/c");
  CHECK_THROWS_WITH(ordered({parse_volume_flag("/d"), parse_volume_flag("v1:/d/")}),
                    "Duplicate mount point: /d");
}

TEST_CASE("volume: --volumes-from takes a container and an optional mode", "[volume]") {
  auto v = parse_volumes_from("db:ro");
  CHECK(v.container == "db");
  CHECK(v.mode == "ro");
  CHECK(parse_volumes_from("db").mode.empty());
  CHECK_THROWS_WITH(parse_volumes_from("db:rx"), "invalid mode: rx");
}

TEST_CASE("volume: create -o takes the local driver's keys only", "[volume]") {
  CHECK(parse_volume_option("type=tmpfs") == std::pair<std::string, std::string>{"type", "tmpfs"});
  CHECK(parse_volume_option("o=size=64m") == std::pair<std::string, std::string>{"o", "size=64m"});
  CHECK_THROWS_WITH(parse_volume_option("colour=red"), Catch::Contains("invalid option key"));
  CHECK_THROWS_WITH(parse_volume_option("type"), Catch::Contains("KEY=VALUE"));
}
