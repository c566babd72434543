// tests/unit/test_plan.cpp — the pure parts of the launch pipeline: what gets
// mounted, which namespaces, which capabilities, which user. Modules:
// 02-chroot, 03-namespaces, 05-images (overlay), 11-security, launch, core/sys.
//
// Docker is the reference: moby's default OCI spec (oci/defaults.go) for
// mounts, devices and capabilities, and moby/sys/user's GetExecUser for -u.
#include <catch2/catch.hpp>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

#include <algorithm>
#include <string>
#include <vector>

#include "02-chroot/rootfs.hpp"
#include "03-namespaces/namespaces.hpp"
#include "05-images/overlay.hpp"
#include "11-security/capabilities.hpp"
#include "core/error.hpp"
#include "core/sys.hpp"
#include "launch/process.hpp"
#include "launch/spec.hpp"

namespace {

namespace chroot = skiff::chroot;
namespace launch = skiff::launch;
using skiff::core::Error;
using Gids = std::vector<gid_t>;

const chroot::Mount* find_mount(const std::vector<chroot::Mount>& plan, const std::string& target) {
  for (const auto& m : plan)
    if (m.target == target) return &m;
  return nullptr;
}

size_t position(const std::vector<chroot::Mount>& plan, const std::string& target) {
  for (size_t i = 0; i < plan.size(); ++i)
    if (plan[i].target == target) return i;
  return plan.size();
}

// An image's /etc/passwd and /etc/group, busybox-like, plus alice.
const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n";
const std::string kGroup =
    "root:x:0:\n"
    "daemon:x:1:\n"
    "wheel:x:10:root,alice\n"
    "users:x:100:alice\n"
    "alice:x:1000:\n"
    "nogroup:x:65534:\n";

}  // namespace

// ---- 02-chroot: system mounts and devices ---------------------------------

TEST_CASE("plan_system_mounts: Docker's filesystems, in an order that works", "[unit][plan]") {
  const auto plan = chroot::plan_system_mounts();
  std::vector<std::string> targets;
  for (const auto& m : plan) targets.push_back(m.target);
  CHECK(targets == std::vector<std::string>{"proc", "dev", "dev/pts", "dev/shm", "dev/mqueue",
                                            "sys"});
  // A mount point must exist before something is mounted on it: everything
  // under dev/ comes after the tmpfs on dev.
  CHECK(position(plan, "proc") < position(plan, "dev"));
  CHECK(position(plan, "dev") < position(plan, "dev/pts"));
  CHECK(position(plan, "dev") < position(plan, "dev/shm"));
  CHECK(position(plan, "dev") < position(plan, "dev/mqueue"));
  // Targets are relative to the new root.
  for (const auto& m : plan) CHECK(m.target.front() != '/');
}

TEST_CASE("plan_system_mounts: types, flags and options", "[unit][plan]") {
  const auto plan = chroot::plan_system_mounts();
  const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  const auto* proc = find_mount(plan, "proc");
  REQUIRE(proc);
  CHECK(proc->fstype == "proc");
  CHECK(proc->flags == safe);

  const auto* dev = find_mount(plan, "dev");
  REQUIRE(dev);
  CHECK(dev->fstype == "tmpfs");
  CHECK(dev->flags == (MS_NOSUID | MS_STRICTATIME));
  CHECK(dev->data == "mode=755,size=65536k");

  const auto* pts = find_mount(plan, "dev/pts");
  REQUIRE(pts);
  CHECK(pts->fstype == "devpts");
  CHECK(pts->flags == (MS_NOSUID | MS_NOEXEC));
  // newinstance: the container's own pty numbering, not the host's.
  CHECK(pts->data == "newinstance,ptmxmode=0666,mode=0620,gid=5");

  const auto* shm = find_mount(plan, "dev/shm");
  REQUIRE(shm);
  CHECK(shm->fstype == "tmpfs");
  CHECK(shm->flags == safe);
  CHECK(shm->data == "mode=1777,size=65536k");

  const auto* mqueue = find_mount(plan, "dev/mqueue");
  REQUIRE(mqueue);
  CHECK(mqueue->fstype == "mqueue");
  CHECK(mqueue->flags == safe);

  const auto* sys = find_mount(plan, "sys");
  REQUIRE(sys);
  CHECK(sys->fstype == "sysfs");
  CHECK(sys->flags == (safe | MS_RDONLY));
}

TEST_CASE("default_devices: Docker's /dev, major:minor", "[unit][plan]") {
  const auto& devices = chroot::default_devices();
  REQUIRE(devices.size() == 6);
  struct Want {
    const char* name;
    unsigned major, minor;
  };
  const Want want[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                       {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
  for (size_t i = 0; i < devices.size(); ++i) {
    INFO(want[i].name);
    CHECK(devices[i].name == want[i].name);
    CHECK(devices[i].major == want[i].major);
    CHECK(devices[i].minor == want[i].minor);
  }
}

// ---- 05-images: overlay options -------------------------------------------

TEST_CASE("overlay_options: lowerdir lists the top layer first", "[unit][plan]") {
  // Images store layers bottom first; overlayfs wants the top first.
  CHECK(skiff::images::overlay_options({"/s/l/base", "/s/l/mid", "/s/l/top"}, "/c/upper",
                                       "/c/work") ==
        "lowerdir=/s/l/top:/s/l/mid:/s/l/base,upperdir=/c/upper,workdir=/c/work");
  CHECK(skiff::images::overlay_options({"/s/l/only"}, "/c/u", "/c/w") ==
        "lowerdir=/s/l/only,upperdir=/c/u,workdir=/c/w");
}

TEST_CASE("spec: a container's own directories and cgroup", "[unit][plan]") {
  launch::ContainerSpec spec;
  spec.id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  spec.dir = "/var/lib/skiff/containers/" + spec.id;
  CHECK(launch::upper_dir(spec) == spec.dir / "upper");
  CHECK(launch::work_dir(spec) == spec.dir / "work");
  CHECK(launch::rootfs_dir(spec) == spec.dir / "merged");
  CHECK(launch::cgroup_name(spec) == "skiff/" + spec.id);
}

// ---- 03-namespaces and core/sys flag names --------------------------------

TEST_CASE("clone_flags: the namespaces every container is cloned into", "[unit][plan]") {
  const unsigned long flags = skiff::ns::clone_flags();
  CHECK(flags == (CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET));
  // No user namespace: skiff runs containers as real root, as Docker does
  // by default (no userns-remap).
  CHECK((flags & CLONE_NEWUSER) == 0);
  // No cgroup namespace at clone time: a cgroup namespace's root is the
  // creator's cgroup *when it is made*, and at clone time the child is still
  // in the launcher's cgroup. The child unshares CLONE_NEWCGROUP itself once
  // the parent has moved it into skiff/<id>, so that its /sys/fs/cgroup
  // starts at its own group.
  CHECK((flags & CLONE_NEWCGROUP) == 0);
}

TEST_CASE("sys::clone_flags and mount_flags: readable names", "[unit][plan]") {
  namespace sys = skiff::core::sys;
  CHECK(sys::clone_flags(skiff::ns::clone_flags()) ==
        "CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET");
  CHECK(sys::clone_flags(CLONE_NEWCGROUP) == "CLONE_NEWCGROUP");
  CHECK(sys::clone_flags(CLONE_NEWUSER | SIGCHLD) == "CLONE_NEWUSER|SIGCHLD");
  CHECK(sys::mount_flags(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) ==
        "MS_RDONLY|MS_NOSUID|MS_NODEV|MS_NOEXEC");
  CHECK(sys::mount_flags(MS_REC | MS_PRIVATE) == "MS_REC|MS_PRIVATE");
  CHECK(sys::mount_flags(MS_BIND | MS_REC) == "MS_BIND|MS_REC");
  CHECK(sys::mount_flags(MS_NOSUID | MS_STRICTATIME) == "MS_NOSUID|MS_STRICTATIME");
  // A bit without a name is shown in hex rather than lost.
  CHECK(sys::mount_flags(MS_RDONLY | MS_SYNCHRONOUS) == "MS_RDONLY|0x10");
}

// ---- 11-security ----------------------------------------------------------

TEST_CASE("default_capabilities: Docker's 14, CapEff 00000000a80425fb", "[unit][plan]") {
  const auto& caps = skiff::security::default_capabilities();
  CHECK(caps.size() == 14);
  // What `grep CapEff /proc/self/status` prints in a default Docker container.
  CHECK(skiff::security::capability_mask(caps) == 0xa80425fbULL);
  for (const char* absent : {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE"}) {
    INFO(absent);
    CHECK(std::find(caps.begin(), caps.end(), absent) == caps.end());
  }
  CHECK(skiff::security::capability_mask({}) == 0);
  CHECK(skiff::security::capability_mask({"CAP_CHOWN"}) == 1);
  CHECK(skiff::security::capability_mask({"CAP_SYS_ADMIN"}) == (1ULL << 21));
  CHECK_THROWS_AS(skiff::security::capability_mask({"CAP_BOGUS"}), Error);
}

// ---- launch: --upto -------------------------------------------------------

TEST_CASE("parse_upto: short names and lesson folders", "[unit][plan]") {
  CHECK(launch::parse_upto("chroot") == launch::Upto::chroot);
  CHECK(launch::parse_upto("02-chroot") == launch::Upto::chroot);
  CHECK(launch::parse_upto("namespaces") == launch::Upto::namespaces);
  CHECK(launch::parse_upto("03-namespaces") == launch::Upto::namespaces);
  CHECK(launch::parse_upto("cgroups") == launch::Upto::cgroups);
  CHECK(launch::parse_upto("04-cgroups") == launch::Upto::cgroups);
  CHECK(launch::parse_upto("all") == launch::Upto::all);
  for (auto u : {launch::Upto::chroot, launch::Upto::namespaces, launch::Upto::cgroups,
                 launch::Upto::all})
    CHECK(launch::parse_upto(launch::upto_name(u)) == u);
  CHECK(launch::upto_name(launch::Upto::namespaces) == "namespaces");
}

TEST_CASE("parse_upto: an unknown module names the flag and the value", "[unit][plan]") {
  CHECK_THROWS_AS(launch::parse_upto("bogus"), Error);
  CHECK_THROWS_WITH(launch::parse_upto("bogus"), Catch::Contains("--upto") &&
                                                     Catch::Contains("\"bogus\""));
  CHECK_THROWS_AS(launch::parse_upto(""), Error);
  CHECK_THROWS_AS(launch::parse_upto("Chroot"), Error);
  try {
    launch::parse_upto("bogus");
  } catch (const Error& e) {
    CHECK(e.exit_code() == 125);
  }
}

TEST_CASE("Upto: ordered as the course is", "[unit][plan]") {
  using launch::Upto;
  CHECK(Upto::chroot < Upto::namespaces);
  CHECK(Upto::namespaces < Upto::cgroups);
  CHECK(Upto::cgroups < Upto::all);
  CHECK_FALSE(Upto::chroot >= Upto::namespaces);
}

// ---- launch: -u USER[:GROUP] ----------------------------------------------

TEST_CASE("resolve_user: no -u is root, from the image's passwd", "[unit][plan]") {
  auto id = launch::resolve_user("", kPasswd, kGroup);
  CHECK(id.uid == 0);
  CHECK(id.gid == 0);
  CHECK(id.home == "/root");
  CHECK(id.groups == Gids{0, 10});   // root is a member of wheel
  // An image without /etc/passwd: still root, home "/".
  auto bare = launch::resolve_user("", "", "");
  CHECK(bare.uid == 0);
  CHECK(bare.gid == 0);
  CHECK(bare.home == "/");
  CHECK(bare.groups == Gids{0});
}

TEST_CASE("resolve_user: names and numbers", "[unit][plan]") {
  auto nobody = launch::resolve_user("nobody", kPasswd, kGroup);
  CHECK(nobody.uid == 65534);
  CHECK(nobody.gid == 65534);
  CHECK(nobody.home == "/home");
  CHECK(nobody.groups == Gids{65534});

  auto alice = launch::resolve_user("alice", kPasswd, kGroup);
  CHECK(alice.uid == 1000);
  CHECK(alice.gid == 1000);
  CHECK(alice.home == "/home/alice");
  CHECK(alice.groups == Gids{1000, 10, 100});   // primary, then memberships

  // A uid with a passwd entry is that entry.
  auto by_uid = launch::resolve_user("1000", kPasswd, kGroup);
  CHECK(by_uid.uid == 1000);
  CHECK(by_uid.gid == 1000);
  CHECK(by_uid.home == "/home/alice");
  CHECK(by_uid.groups == Gids{1000, 10, 100});

  // A uid without one is that uid, gid 0, home "/".
  auto number = launch::resolve_user("1234", kPasswd, kGroup);
  CHECK(number.uid == 1234);
  CHECK(number.gid == 0);
  CHECK(number.home == "/");
  CHECK(number.groups == Gids{0});
}

TEST_CASE("resolve_user: an explicit group", "[unit][plan]") {
  auto id = launch::resolve_user("nobody:users", kPasswd, kGroup);
  CHECK(id.uid == 65534);
  CHECK(id.gid == 100);
  CHECK(id.groups == Gids{100});

  auto numeric = launch::resolve_user("0:10", kPasswd, kGroup);
  CHECK(numeric.uid == 0);
  CHECK(numeric.gid == 10);
  CHECK(numeric.home == "/root");

  auto unknown_gid = launch::resolve_user("1234:4242", kPasswd, kGroup);
  CHECK(unknown_gid.uid == 1234);
  CHECK(unknown_gid.gid == 4242);
  CHECK(unknown_gid.groups == Gids{4242});
}

TEST_CASE("resolve_user: USER:GROUP gets no memberships from /etc/group", "[unit][plan]") {
  // BUG: reported. moby/sys/user GetExecUser: "Supplementary group ids only
  // make sense if in the implicit form" — with -u alice:users Docker's `id`
  // prints groups=100(users); skiff also keeps alice in wheel (10).
  auto id = launch::resolve_user("alice:users", kPasswd, kGroup);
  CHECK(id.uid == 1000);
  CHECK(id.gid == 100);
  CHECK(id.groups == Gids{100});
}

TEST_CASE("resolve_user: unknown names are Docker's errors", "[unit][plan]") {
  CHECK_THROWS_WITH(launch::resolve_user("nosuch", kPasswd, kGroup),
                    "unable to find user nosuch: no matching entries in passwd file");
  CHECK_THROWS_WITH(launch::resolve_user("root:nosuch", kPasswd, kGroup),
                    "unable to find group nosuch: no matching entries in group file");
  CHECK_THROWS_AS(launch::resolve_user("nobody", "", ""), Error);
  CHECK_THROWS_AS(launch::resolve_user("-1", kPasswd, kGroup), Error);
}

TEST_CASE("env_value: the value of one name in a K=V list", "[unit][plan]") {
  const std::vector<std::string> env = {"PATHX=no", "PATH=/usr/bin:/bin", "HOME=/root", "EMPTY=",
                                        "EQ=a=b"};
  CHECK(launch::env_value(env, "PATH") == "/usr/bin:/bin");
  CHECK(launch::env_value(env, "HOME") == "/root");
  CHECK(launch::env_value(env, "EQ") == "a=b");
  CHECK(launch::env_value(env, "EMPTY") == "");
  CHECK(launch::env_value(env, "PAT") == "");
  CHECK(launch::env_value(env, "MISSING") == "");
  CHECK(launch::env_value({}, "PATH") == "");
}
