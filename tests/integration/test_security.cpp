// tests/integration/test_security.cpp — root in a container is not root on
// the host: Docker's default capability set and what --cap-add, --cap-drop,
// --privileged, --device and --security-opt change in it, the devices
// cgroup behind it, and a store no other user can enter.
// Lessons: 11-security, 04-cgroups (devices). Needs root.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "harness.hpp"

using it::contains;
using it::trim;
namespace stdfs = std::filesystem;

namespace {

// Docker's default set: chown dac_override fowner fsetid kill setgid setuid
// setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap.
const char* const kDockerCaps = "00000000a80425fb";

std::string cap_eff(const std::string& status_line) {
  auto tab = status_line.find(':');
  return tab == std::string::npos ? "" : trim(status_line.substr(tab + 1));
}

}  // namespace

TEST_CASE("the container runs with Docker's default capabilities", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "busybox", "grep", "CapEff", "/proc/self/status"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(cap_eff(r.out) == kDockerCaps);
  // A non-root user keeps none.
  auto nobody = box.run({"run", "-u", "nobody", "busybox", "grep", "CapEff", "/proc/self/status"});
  REQUIRE(nobody.code == 0);
  CHECK(cap_eff(nobody.out) == "0000000000000000");
}

TEST_CASE("without CAP_SYS_ADMIN, mount and sethostname are refused", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto mount = box.run({"run", "busybox", "mount", "-t", "tmpfs", "none", "/tmp"});
  INFO(mount.err);
  CHECK(mount.code != 0);
  CHECK((contains(mount.err, "ermission denied") || contains(mount.err, "not permitted")));

  auto host = box.run({"run", "busybox", "hostname", "foo"});
  INFO(host.err);
  CHECK(host.code != 0);
  CHECK(contains(host.err, "Operation not permitted"));

  // CAP_NET_ADMIN is not in the set either.
  auto link = box.run({"run", "busybox", "ip", "link", "add", "dummy0", "type", "dummy"});
  INFO(link.err);
  CHECK(link.code != 0);
  CHECK(contains(link.err, "Operation not permitted"));
}

TEST_CASE("mknod is allowed, but the devices cgroup refuses to open a disk", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r =
      box.run({"run", "busybox", "sh", "-c", "mknod /tmp/sda b 8 0 && echo made && cat /tmp/sda"});
  INFO(r.out << r.err);
  CHECK(trim(r.out) == "made");  // CAP_MKNOD is in Docker's set
  CHECK(r.code != 0);
  CHECK(contains(r.err, "Operation not permitted"));
  // The pseudo-devices on the allow-list still work.
  auto ok = box.run({"run", "busybox", "sh", "-c", "head -c 4 /dev/zero | wc -c"});
  INFO(ok.err);
  CHECK(ok.code == 0);
  CHECK(trim(ok.out) == "4");
}

TEST_CASE("run --upto cgroups stops before 11-security: every capability is kept") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--upto", "cgroups", "busybox", "grep", "CapEff", "/proc/self/status"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(cap_eff(r.out) != kDockerCaps);
  CHECK(cap_eff(r.out) == it::host_cap_eff());
  auto host = box.run({"run", "--upto", "cgroups", "--hostname", "before", "busybox", "sh", "-c",
                       "hostname after && hostname"});
  INFO(host.err);
  CHECK(host.code == 0);
  CHECK(trim(host.out) == "after");
}

TEST_CASE("the machine's kernel settings are read-only and /proc's secrets masked", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  // Writing the value it already has: if the guard failed, nothing changes.
  auto write = box.run({"run", "busybox", "sh", "-c",
                        "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness"});
  CHECK(write.code != 0);
  CHECK(contains(write.err, "Read-only file system"));
  auto sysrq = box.run({"run", "busybox", "sh", "-c", "echo h > /proc/sysrq-trigger"});
  CHECK(sysrq.code != 0);
  // Masked: /proc/keys reads as empty (it is /dev/null), /sys/firmware has nothing.
  auto masked = box.run({"run", "busybox", "sh", "-c",
                         "wc -c < /proc/keys; ls -A /sys/firmware | wc -l"});
  REQUIRE(masked.code == 0);
  CHECK(trim(masked.out) == "0\n0");
  // --upto cgroups stops before this security step: the settings are writable.
  auto open = box.run({"run", "--upto", "cgroups", "busybox", "sh", "-c",
                       "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness && echo wrote"});
  CHECK(trim(open.out) == "wrote");
}

namespace {

// "CapInh CapPrm CapEff CapBnd CapAmb" of the container's first process.
std::map<std::string, std::string> cap_sets(it::Sandbox& box, std::vector<std::string> flags) {
  std::vector<std::string> args = {"run", "--rm"};
  args.insert(args.end(), flags.begin(), flags.end());
  for (const char* a : {"busybox", "grep", "^Cap", "/proc/self/status"}) args.push_back(a);
  auto r = box.run(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  std::map<std::string, std::string> out;
  for (const auto& line : it::lines(r.out)) out[line.substr(0, line.find(':'))] = cap_eff(line);
  return out;
}

std::string status_field(it::Sandbox& box, std::vector<std::string> flags, const std::string& field) {
  std::vector<std::string> args = {"run", "--rm"};
  args.insert(args.end(), flags.begin(), flags.end());
  for (const char* a : {"busybox", "grep", "-E", "^(NoNewPrivs|Seccomp):", "/proc/self/status"}) args.push_back(a);
  auto r = box.run(args);
  REQUIRE(r.code == 0);
  for (const auto& line : it::lines(r.out))
    if (line.rfind(field + ":", 0) == 0) return cap_eff(line);
  return "(absent)";
}

}  // namespace

TEST_CASE("capability sets: inheritable and ambient empty, a non-root user keeps only the bounding set") {
  it::require_root();
  it::Sandbox box;
  auto root = cap_sets(box, {});
  CHECK(root["CapInh"] == "0000000000000000");  // CVE-2022-24769: never the kept set
  CHECK(root["CapAmb"] == "0000000000000000");
  CHECK(root["CapPrm"] == kDockerCaps);
  CHECK(root["CapEff"] == kDockerCaps);
  CHECK(root["CapBnd"] == kDockerCaps);
  auto nobody = cap_sets(box, {"-u", "nobody"});
  CHECK(nobody["CapInh"] == "0000000000000000");
  CHECK(nobody["CapPrm"] == "0000000000000000");
  CHECK(nobody["CapEff"] == "0000000000000000");
  CHECK(nobody["CapAmb"] == "0000000000000000");
  CHECK(nobody["CapBnd"] == kDockerCaps);
}

TEST_CASE("run --cap-drop ALL leaves nothing, yet the user switch still works") {
  it::require_root();
  it::Sandbox box;
  auto none = cap_sets(box, {"--cap-drop", "ALL"});
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) CHECK(none[set] == "0000000000000000");
  auto chown = box.run({"run", "--rm", "--cap-drop", "all", "busybox", "sh", "-c", "touch /f && chown 1 /f"});
  CHECK(chown.code != 0);
  CHECK(contains(chown.err, "Operation not permitted"));
  auto id = box.run({"run", "--rm", "--cap-drop", "ALL", "-u", "nobody", "busybox", "id", "-u"});
  INFO(id.err);
  CHECK(id.code == 0);
  CHECK(trim(id.out) == "65534");
  // One taken away, one given: Docker's rule is the default set minus, plus.
  auto chown_dropped = box.run({"run", "--rm", "--cap-drop", "chown", "busybox", "sh", "-c", "touch /f && chown 1 /f"});
  CHECK(chown_dropped.code != 0);
}

TEST_CASE("run --cap-add NET_ADMIN adds exactly that capability, and it works") {
  it::require_root();
  it::Sandbox box;
  auto sets = cap_sets(box, {"--cap-add", "NET_ADMIN"});
  CHECK(sets["CapEff"] == "00000000a80435fb");  // bit 12 more than Docker's default
  CHECK(sets["CapBnd"] == "00000000a80435fb");
  auto link = box.run({"run", "--rm", "--cap-add", "net_admin", "busybox", "ip", "link", "set", "lo", "down"});
  INFO(link.err);
  CHECK(link.code == 0);
  auto without = box.run({"run", "--rm", "busybox", "ip", "link", "set", "lo", "down"});
  CHECK(without.code != 0);
  auto all_but = cap_sets(box, {"--cap-add", "ALL", "--cap-drop", "MKNOD"});
  CHECK(all_but["CapEff"] != kDockerCaps);
  auto mknod = box.run({"run", "--rm", "--cap-add", "ALL", "--cap-drop", "MKNOD", "busybox", "mknod", "/n", "c", "1", "3"});
  CHECK(mknod.code != 0);
}

TEST_CASE("bad capability and security options are refused before anything is made") {
  it::require_root();
  it::Sandbox box;
  auto before = box.container_entries();
  auto cap = box.run({"run", "--cap-add", "CAP_FOO", "busybox", "true"});
  CHECK(cap.code == 125);
  CHECK(trim(cap.err) == "skiff: invalid CapAdd: unknown capability: \"CAP_FOO\"");
  auto drop = box.run({"run", "--cap-drop", "bogus", "busybox", "true"});
  CHECK(drop.code == 125);
  CHECK(contains(drop.err, "invalid CapDrop: unknown capability: \"CAP_BOGUS\""));
  auto opt = box.run({"run", "--security-opt", "bogus", "busybox", "true"});
  CHECK(opt.code == 125);
  CHECK(trim(opt.err) == "skiff: invalid --security-opt 2: \"bogus\"");
  auto nnp = box.run({"run", "--security-opt", "no-new-privileges=maybe", "busybox", "true"});
  CHECK(nnp.code == 125);
  auto dev = box.run({"run", "--device", "/no/such/device", "busybox", "true"});
  CHECK(dev.code == 125);
  CHECK(contains(dev.err, "error gathering device information while adding custom device \"/no/such/device\""));
  CHECK(box.container_entries() == before);
}

TEST_CASE("no_new_privs is off by default, as in Docker, and on with --security-opt no-new-privileges", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  CHECK(status_field(box, {}, "NoNewPrivs") == "0");
  CHECK(status_field(box, {"--security-opt", "no-new-privileges"}, "NoNewPrivs") == "1");
  CHECK(status_field(box, {"--security-opt", "no-new-privileges=true"}, "NoNewPrivs") == "1");
  CHECK(status_field(box, {"--security-opt", "no-new-privileges:false"}, "NoNewPrivs") == "0");
}

TEST_CASE("run --privileged: every capability, the host's devices, writable kernel settings", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto sets = cap_sets(box, {"--privileged"});
  CHECK(sets["CapEff"] == it::host_cap_eff());
  CHECK(sets["CapBnd"] == it::host_cap_eff());
  // A block device of the host, its node made in /dev and readable.
  auto r = box.run({"run", "--rm", "--privileged", "busybox", "sh", "-c",
                    "head -c 1 /dev/loop0 > /dev/null && echo read; "
                    "cat /proc/sys/vm/swappiness > /proc/sys/vm/swappiness && echo wrote; "
                    "grep -c ' /sys .*rw' /proc/self/mounts"});
  INFO(r.err);
  CHECK(it::lines(r.out) == std::vector<std::string>{"read", "wrote", "1"});
  // The same without --privileged: no node, and one made is refused.
  auto plain = box.run({"run", "--rm", "busybox", "sh", "-c",
                        "test -e /dev/loop0 || echo absent; mknod /tmp/l b 7 0 && head -c 1 /tmp/l"});
  CHECK(contains(plain.out, "absent"));
  CHECK(plain.code != 0);
  auto name = box.name("priv");
  REQUIRE(box.run({"run", "--name", name, "--privileged", "--cap-add", "NET_ADMIN", "busybox", "true"}).code == 0);
  auto j = box.inspect(name);
  CHECK(j["HostConfig"]["Privileged"] == true);
  CHECK(j["HostConfig"]["CapAdd"] == nlohmann::json::array({"CAP_NET_ADMIN"}));
  CHECK(j["HostConfig"]["CapDrop"].is_null());
}

TEST_CASE("run --device gives one host device with the permissions asked, --device-cgroup-rule only the rule", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--device", "/dev/loop0:/dev/xvdc:r", "busybox", "sh", "-c",
                    "ls -l /dev/xvdc; head -c 1 /dev/xvdc > /dev/null && echo read; "
                    "echo x > /dev/xvdc || echo refused"});
  INFO(r.err);
  CHECK(contains(r.out, "7,   0 "));
  CHECK(contains(r.out, "read\n"));
  CHECK(contains(r.out, "refused"));
  auto rule = box.run({"run", "--rm", "--device-cgroup-rule", "b 7:* r", "busybox", "sh", "-c",
                       "mknod /tmp/l b 7 0 && head -c 1 /tmp/l > /dev/null && echo read"});
  INFO(rule.err);
  CHECK(trim(rule.out) == "read");
  auto name = box.name("dev");
  REQUIRE(box.run({"run", "--name", name, "--device", "/dev/loop0", "busybox", "true"}).code == 0);
  auto devices = box.inspect(name)["HostConfig"]["Devices"];
  REQUIRE(devices.size() == 1);
  CHECK(devices[0]["PathOnHost"] == "/dev/loop0");
  CHECK(devices[0]["PathInContainer"] == "/dev/loop0");
  CHECK(devices[0]["CgroupPermissions"] == "rwm");
  // start runs it again with its device: the rule and the node are in the record.
  auto again = box.run({"start", "-a", name});
  CHECK(again.code == 0);
}

TEST_CASE("the store is closed to other users: 0711 at the top, 0700 below") {
  it::require_root();
  it::Sandbox box;
  REQUIRE(box.run({"run", "--rm", "busybox", "true"}).code == 0);
  auto mode = [](const stdfs::path& p) { return stdfs::status(p).permissions() & stdfs::perms::all; };
  using P = stdfs::perms;
  CHECK(mode(box.root()) == (P::owner_all | P::group_exec | P::others_exec));
  for (const char* sub : {"containers", "images", "volumes"}) {
    INFO(sub);
    CHECK(mode(box.root() / sub) == P::owner_all);
  }
  // A user of the host cannot reach the busybox layer's files.
  auto r = ::system(("su -s /bin/sh nobody -c 'ls " + (box.root() / "images/layers").string() +
                     "' > /dev/null 2>&1").c_str());
  CHECK(WEXITSTATUS(r) != 0);
}
