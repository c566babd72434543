// tests/integration/test_security.cpp — root in a container is not root on
// the host: Docker's default capability set, and the devices cgroup behind
// it. Lessons: 11-security, 04-cgroups (devices). Needs root.
#include <catch2/catch.hpp>

#include "harness.hpp"

using it::contains;
using it::trim;

namespace {

// Docker's default set: chown dac_override fowner fsetid kill setgid setuid
// setpcap net_bind_service net_raw sys_chroot mknod audit_write setfcap.
const char* const kDockerCaps = "00000000a80425fb";

std::string cap_eff(const std::string& status_line) {
  auto tab = status_line.find(':');
  return tab == std::string::npos ? "" : trim(status_line.substr(tab + 1));
}

}  // namespace

TEST_CASE("the container runs with Docker's default capabilities") {
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

TEST_CASE("without CAP_SYS_ADMIN, mount and sethostname are refused") {
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

TEST_CASE("mknod is allowed, but the devices cgroup refuses to open a disk") {
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

TEST_CASE("the machine's kernel settings are read-only and /proc's secrets masked") {
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
