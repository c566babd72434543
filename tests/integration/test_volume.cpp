// tests/integration/test_volume.cpp — volumes as a user sees them: data that
// outlives `rm`, shared between running containers, read-only when asked,
// copied up from the image, removed only when asked (rm -v, run --rm,
// volume rm/prune), and bad input refused with nothing made. Lesson:
// 06-volumes. Needs root.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::lines;
using it::trim;
namespace stdfs = std::filesystem;

namespace {

// A host directory of the test's own, removed at the end (after the
// Sandbox, which is declared after it, has removed the containers).
struct HostDir {
  stdfs::path path;
  explicit HostDir(const std::string& what)
      : path(stdfs::temp_directory_path() / ("skiff-it-vol-" + std::to_string(::getpid()) + "-" + what)) {
    std::error_code ec;
    stdfs::remove_all(path, ec);
  }
  ~HostDir() {
    std::error_code ec;
    stdfs::remove_all(path, ec);
  }
};

std::set<std::string> volume_names(it::Sandbox& box) {
  auto r = box.run({"volume", "ls", "-q"});
  REQUIRE(r.code == 0);
  auto l = lines(r.out);
  return {l.begin(), l.end()};
}

stdfs::path data_dir(const it::Sandbox& box, const std::string& name) {
  return box.root() / "volumes" / name / "_data";
}

// The names of the anonymous volumes of container KEY.
std::vector<std::string> anonymous_volumes(it::Sandbox& box, const std::string& key) {
  std::vector<std::string> out;
  auto j = box.inspect(key);
  for (const auto& m : j["Mounts"])
    if (m["Type"] == "volume" && m["Name"].get<std::string>().size() == 64) out.push_back(m["Name"]);
  return out;
}

}  // namespace

TEST_CASE("volume: a named volume's data outlives rm of the container that wrote it", "[volume]") {
  it::require_root();
  it::Sandbox box;
  auto vol = box.name("keep");
  auto writer = box.name("writer");
  auto r = box.run({"run", "--name", writer, "-v", vol + ":/data", "busybox", "sh", "-c", "echo kept > /data/f"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  REQUIRE(box.run({"rm", writer}).code == 0);
  CHECK(volume_names(box).count(vol));
  r = box.run({"run", "--rm", "-v", vol + ":/data", "busybox", "cat", "/data/f"});
  CHECK(r.code == 0);
  CHECK(r.out == "kept\n");
  CHECK(it::read_file(data_dir(box, vol) / "f") == "kept\n");
}

TEST_CASE("volume: two running containers share one volume", "[volume]") {
  it::require_root();
  it::Sandbox box;
  auto vol = box.name("shared");
  auto writer = box.name("ticker");
  auto r = box.run({"run", "-d", "--name", writer, "-v", vol + ":/d", "busybox", "sh", "-c",
                    "i=0; while true; do i=$((i+1)); echo $i > /d/n; sleep 0.1; done"});
  REQUIRE(r.code == 0);
  box.wait_running(writer);
  r = box.run({"run", "--rm", "-v", vol + ":/d", "busybox", "sh", "-c",
               "sleep 0.3; a=$(cat /d/n); sleep 1; b=$(cat /d/n); [ \"$b\" -gt \"$a\" ] && echo moving $a $b"});
  INFO(r.out << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "moving"));
  CHECK(box.run({"rm", "-f", writer}).code == 0);
}

TEST_CASE("volume: ro volumes and binds refuse writes with Read-only file system", "[volume][kernel]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("ro");
  stdfs::create_directories(host.path);
  auto vol = box.name("ro");
  for (const auto& flags : std::vector<std::vector<std::string>>{
           {"-v", vol + ":/d:ro"},
           {"--mount", "type=volume,source=" + vol + ",target=/d,readonly"},
           {"-v", host.path.string() + ":/d:ro"},
           {"--mount", "type=bind,src=" + host.path.string() + ",dst=/d,ro=true"}}) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.insert(args.end(), {"busybox", "sh", "-c", "echo x > /d/f"});
    auto r = box.run(args);
    INFO(flags[1] << ": " << r.err);
    CHECK(r.code != 0);
    CHECK(contains(r.err, "Read-only file system"));
  }
  CHECK(stdfs::is_empty(host.path));
  CHECK(stdfs::is_empty(data_dir(box, vol)));
}

TEST_CASE("volume: --read-only root keeps volumes and tmpfs writable", "[volume][kernel]") {
  it::require_root();
  it::Sandbox box;
  auto vol = box.name("rw");
  auto r = box.run({"run", "--rm", "--read-only", "-v", vol + ":/d", "--tmpfs", "/t", "busybox", "sh", "-c",
                    "touch /x 2>&1; echo a > /d/a && echo b > /t/b && cat /d/a /t/b"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "touch: /x: Read-only file system"));
  CHECK(contains(r.out, "a\nb\n"));
  CHECK(it::read_file(data_dir(box, vol) / "a") == "a\n");
}

TEST_CASE("volume: an empty volume over an image directory starts as a copy of it", "[volume][kernel]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("nocopy");
  stdfs::create_directories(host.path);
  auto vol = box.name("etc");
  auto r = box.run({"run", "--rm", "-v", vol + ":/etc", "busybox", "sh", "-c", "echo changed >> /etc/group"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto passwd = data_dir(box, vol) / "passwd";
  CHECK(contains(it::read_file(passwd), "root:x:0:0"));
  auto perms = stdfs::status(passwd).permissions();
  CHECK(perms == (stdfs::perms::owner_read | stdfs::perms::owner_write | stdfs::perms::group_read |
                  stdfs::perms::others_read));
  CHECK(contains(it::read_file(data_dir(box, vol) / "group"), "changed"));
  // Not empty any more: a second container sees what the first left.
  r = box.run({"run", "--rm", "-v", vol + ":/etc", "busybox", "grep", "-c", "changed", "/etc/group"});
  CHECK(r.out == "1\n");
  // nocopy, and a bind, are never filled.
  auto bare = box.name("bare");
  CHECK(box.run({"run", "--rm", "-v", bare + ":/etc:nocopy", "busybox", "true"}).code == 0);
  CHECK(!stdfs::exists(data_dir(box, bare) / "passwd"));
  CHECK(box.run({"run", "--rm", "-v", host.path.string() + ":/etc", "busybox", "true"}).code == 0);
  CHECK(!stdfs::exists(host.path / "passwd"));
}

TEST_CASE("volume: a tmpfs holds no more than its size", "[volume][kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--tmpfs", "/t:size=1m", "busybox", "sh", "-c",
                    "dd if=/dev/zero of=/t/big bs=1k count=2048 2>&1; df -k /t | tail -1"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "No space left on device"));
  CHECK(contains(r.out, " 1024 "));
  auto vol = box.name("mem");
  r = box.run({"volume", "create", "-o", "type=tmpfs", "-o", "device=tmpfs", "-o", "o=size=1m", vol});
  REQUIRE(r.code == 0);
  CHECK(r.out == vol + "\n");
  r = box.run({"run", "--rm", "-v", vol + ":/m", "busybox", "sh", "-c",
               "dd if=/dev/zero of=/m/big bs=1k count=2048 2>&1"});
  CHECK(contains(r.out, "No space left on device"));
  CHECK(stdfs::is_empty(data_dir(box, vol)));  // the data was in memory, not on disk
}

TEST_CASE("volume: --volumes-from mounts another container's volumes, :ro read-only", "[volume]") {
  it::require_root();
  it::Sandbox box;
  auto src = box.name("src");
  auto vol = box.name("from");
  auto r = box.run({"run", "--name", src, "-v", vol + ":/d", "-v", "/anon", "busybox", "sh", "-c",
                    "echo s > /d/f; echo t > /anon/f"});
  REQUIRE(r.code == 0);
  r = box.run({"run", "--rm", "--volumes-from", src, "busybox", "cat", "/d/f", "/anon/f"});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(r.out == "s\nt\n");
  r = box.run({"run", "--rm", "--volumes-from", src + ":ro", "busybox", "sh", "-c", "echo x > /d/f"});
  CHECK(r.code != 0);
  CHECK(contains(r.err, "Read-only file system"));
  r = box.run({"run", "--rm", "--volumes-from", box.name("nobody"), "busybox", "true"});
  CHECK(r.code == 125);
  CHECK(contains(r.err, "No such container"));
}

TEST_CASE("volume: rm keeps every volume, rm -v and run --rm take only anonymous ones", "[volume]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("rmv");
  auto named = box.name("named");
  auto a = box.name("a"), b = box.name("b");
  REQUIRE(box.run({"run", "--name", a, "-v", "/anon", "-v", named + ":/n", "busybox", "true"}).code == 0);
  auto anon_a = anonymous_volumes(box, a);
  REQUIRE(anon_a.size() == 1);
  REQUIRE(box.run({"rm", a}).code == 0);
  CHECK(volume_names(box).count(anon_a[0]));

  REQUIRE(box.run({"run", "--name", b, "-v", "/anon", "-v", named + ":/n", "-v",
                   host.path.string() + ":/h", "busybox", "sh", "-c", "echo h > /h/f"}).code == 0);
  auto anon_b = anonymous_volumes(box, b);
  REQUIRE(anon_b.size() == 1);
  auto r = box.run({"rm", "-v", b});
  CHECK(r.code == 0);
  auto left = volume_names(box);
  CHECK(!left.count(anon_b[0]));
  CHECK(left.count(named));
  CHECK(left.count(anon_a[0]));
  CHECK(it::read_file(host.path / "f") == "h\n");

  auto before = volume_names(box);
  r = box.run({"run", "--rm", "-v", "/scratch", "busybox", "sh", "-c", "echo x > /scratch/f"});
  CHECK(r.code == 0);
  CHECK(volume_names(box) == before);

  auto d = box.name("d");
  r = box.run({"run", "-d", "--rm", "--name", d, "-v", "/scratch", "busybox", "sleep", "0.3"});
  REQUIRE(r.code == 0);
  for (int i = 0; i < 100 && box.run({"inspect", d}).code == 0; ++i) usleep(100'000);
  for (int i = 0; i < 20 && volume_names(box) != before; ++i) usleep(100'000);
  CHECK(volume_names(box) == before);
}

TEST_CASE("volume: volume rm refuses a volume a container uses and keeps its data", "[volume]") {
  it::require_root();
  it::Sandbox box;
  auto vol = box.name("busy");
  auto user = box.name("user");
  REQUIRE(box.run({"run", "--name", user, "-v", vol + ":/d", "busybox", "sh", "-c", "echo v > /d/f"}).code == 0);
  auto id = box.id_of(user);
  auto r = box.run({"volume", "rm", vol});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: Error response from daemon: remove " + vol + ": volume is in use - [" + id + "]\n");
  CHECK(it::read_file(data_dir(box, vol) / "f") == "v\n");
  r = box.run({"volume", "prune", "-a", "-f"});
  CHECK(r.code == 0);
  CHECK(it::read_file(data_dir(box, vol) / "f") == "v\n");
  REQUIRE(box.run({"rm", user}).code == 0);
  r = box.run({"volume", "rm", vol});
  CHECK(r.code == 0);
  CHECK(r.out == vol + "\n");
  CHECK(!volume_names(box).count(vol));
  r = box.run({"volume", "rm", vol});
  CHECK(r.code == 1);
  CHECK(r.err == "skiff: Error response from daemon: get " + vol + ": no such volume\n");
  CHECK(box.run({"volume", "rm", "-f", vol}).code == 0);
}

TEST_CASE("volume: create, ls, inspect and prune speak Docker's formats", "[volume]") {
  it::require_root();
  it::Sandbox box;
  auto vol = box.name("meta");
  auto r = box.run({"volume", "create", "--label", "team=db", vol});
  REQUIRE(r.code == 0);
  CHECK(r.out == vol + "\n");
  CHECK(box.run({"volume", "create", vol}).out == vol + "\n");  // already there: fine
  r = box.run({"volume", "create"});
  auto anon = trim(r.out);
  CHECK(anon.size() == 64);

  r = box.run({"volume", "ls"});
  CHECK(lines(r.out).at(0) == "DRIVER    VOLUME NAME");
  CHECK(contains(r.out, "local     " + vol + "\n"));
  CHECK(box.run({"volume", "ls", "-q", "-f", "name=" + vol}).out == vol + "\n");
  CHECK(box.run({"volume", "ls", "-q", "-f", "label=team=db"}).out == vol + "\n");

  r = box.run({"volume", "inspect", vol});
  auto j = nlohmann::json::parse(r.out).at(0);
  CHECK(j["Name"] == vol);
  CHECK(j["Driver"] == "local");
  CHECK(j["Scope"] == "local");
  CHECK(j["Labels"]["team"] == "db");
  CHECK(j["Mountpoint"] == data_dir(box, vol).string());
  CHECK(contains(j["CreatedAt"].get<std::string>(), "T"));
  r = box.run({"volume", "inspect", box.name("none")});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "no such volume"));

  // `volume create` without a name is not anonymous: prune without -a keeps it.
  auto user = box.name("user");
  REQUIRE(box.run({"run", "--name", user, "-v", "/kept", "busybox", "true"}).code == 0);
  auto in_use = anonymous_volumes(box, user).at(0);
  REQUIRE(box.run({"run", "--rm", "-v", vol + ":/d", "busybox", "true"}).code == 0);
  CHECK(box.run({"volume", "ls", "-q", "-f", "dangling=true"}).out.find(in_use) == std::string::npos);
  CHECK(contains(box.run({"volume", "ls", "-q", "-f", "dangling=true"}).out, vol));

  r = box.run({"volume", "prune"}, "n\n");
  CHECK(contains(r.out, "Are you sure you want to continue? [y/N]"));
  CHECK(volume_names(box).count(vol));
  r = box.run({"volume", "prune", "-f", "-a"});
  CHECK(r.code == 0);
  CHECK(contains(r.out, "Deleted Volumes:\n"));
  CHECK(contains(r.out, "Total reclaimed space: "));
  auto left = volume_names(box);
  CHECK(left == std::set<std::string>{in_use});
}

TEST_CASE("volume: inspect lists Mounts and HostConfig.Binds as Docker does", "[volume]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("inspect");
  stdfs::create_directories(host.path);
  auto vol = box.name("insp");
  auto c = box.name("c");
  auto bind = host.path.string() + ":/h:ro";
  REQUIRE(box.run({"run", "--name", c, "-v", vol + ":/d", "-v", bind, "--tmpfs", "/t", "busybox", "true"}).code == 0);
  auto j = box.inspect(c);
  auto mounts = j["Mounts"];
  REQUIRE(mounts.size() == 3);
  auto find = [&](const std::string& dest) {
    for (const auto& m : mounts)
      if (m["Destination"] == dest) return m;
    return nlohmann::json();
  };
  auto v = find("/d");
  CHECK(v["Type"] == "volume");
  CHECK(v["Name"] == vol);
  CHECK(v["Source"] == data_dir(box, vol).string());
  CHECK(v["Driver"] == "local");
  CHECK(v["RW"] == true);
  auto b = find("/h");
  CHECK(b["Type"] == "bind");
  CHECK(b["Source"] == host.path.string());
  CHECK(b["Mode"] == "ro");
  CHECK(b["RW"] == false);
  CHECK(b["Propagation"] == "rprivate");
  CHECK(find("/t")["Type"] == "tmpfs");
  CHECK(j["HostConfig"]["Binds"] == nlohmann::json({vol + ":/d", bind}));
}

TEST_CASE("volume: mounts stay in the container's namespace, a missing -v host dir is made", "[volume][kernel]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("private");
  auto c = box.name("sleeper");
  auto r = box.run({"run", "-d", "--name", c, "-v", (host.path / "sub").string() + ":/h", "--tmpfs", "/t",
                    "busybox", "sh", "-c", "echo in > /h/f; sleep 30"});
  REQUIRE(r.code == 0);
  box.wait_running(c);
  CHECK(stdfs::is_directory(host.path / "sub"));
  CHECK(it::mountinfo_lines_containing(host.path.string()).empty());
  auto pid = std::to_string(box.inspect(c)["State"]["Pid"].get<int>());
  CHECK(it::mountinfo_lines_containing(" /h ", pid).size() == 1);
  CHECK(box.run({"rm", "-f", c}).code == 0);
  CHECK(it::read_file(host.path / "sub" / "f") == "in\n");
}

TEST_CASE("volume: bad mount flags fail with one line, exit 125, and make nothing", "[volume]") {
  it::require_root();
  it::Sandbox box;
  HostDir host("bad");
  auto missing = (host.path / "missing").string();
  struct Case {
    std::vector<std::string> flags;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"-v", "/tmp:/x:rx"}, "skiff: invalid mode: rx"},
      {{"-v", "./x:/y"}, "includes invalid characters for a local volume name"},
      {{"-v", "x/y:/z"}, "includes invalid characters for a local volume name"},
      {{"-v", "..:/z"}, "includes invalid characters for a local volume name"},
      {{"-v", "ok-name:relative"}, "mount path must be absolute"},
      {{"-v", missing + ":/"}, "destination can't be '/'"},
      {{"--mount", "type=bind,source=" + missing + ",target=/x"},
       "skiff: invalid mount config for type \"bind\": bind source path does not exist: " + missing},
      {{"--mount", "type=volume,src=../etc,dst=/x"}, "includes invalid characters"},
      {{"--mount", "type=volume,dst=/x,colour=red"}, "unexpected key 'colour'"},
      {{"--tmpfs", "relative"}, "mount path must be absolute"},
      {{"--tmpfs", "/proc/sys/x"}, "located inside \"/proc\""},
      {{"-v", "okvol:/d", "-v", missing + ":/d"}, "Duplicate mount point: /d"},
      {{"--volumes-from", "nobody-" + std::to_string(::getpid())}, "No such container"},
      {{"--upto", "chroot", "-v", "okvol:/d"}, "has no mount namespace"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    args.insert(args.end(), {"busybox", "true"});
    auto r = box.run(args);
    INFO(c.flags.back() << ": " << r.err);
    CHECK(r.code == 125);
    CHECK(lines(r.err).size() == 1);
    CHECK(contains(r.err, c.message));
  }
  CHECK(box.container_entries().empty());
  CHECK(volume_names(box).empty());
  CHECK(!stdfs::exists(missing));
  for (const auto& bad : {"../x", "/x", "a", "x/y"}) {
    auto r = box.run({"volume", "create", bad});
    INFO(bad);
    CHECK(r.code == 1);
    CHECK(contains(r.err, "includes invalid characters"));
  }
  CHECK(!stdfs::exists(box.root() / "x"));
  CHECK(volume_names(box).empty());
}
