// tests/integration/test_seccomp.cpp — Docker's default seccomp profile on
// real containers: the calls it refuses fail with EPERM (and clone3 with
// ENOSYS) inside, and not with the filter off, so the filter is what
// decides; --security-opt seccomp=unconfined and seccomp=PROFILE.json do
// what Docker's do; exec gets the same filter; and a Debian 12 userland
// (the host's own /usr, bound read-only into a skeleton image) runs its
// everyday programs under it. Lesson: 11-security. Needs root.
#include <catch2/catch.hpp>
#include <map>

#include "05-images/images.hpp"
#include "05-images/layer.hpp"
#include "core/fs.hpp"
#include "harness.hpp"

using it::contains;
using it::trim;
namespace images = skiff::images;
namespace stdfs = std::filesystem;
using E = images::TarEntry;

namespace {

const std::vector<std::string> kProbes = {"getpid", "keyctl", "unshare-user", "mount", "kexec_load",
                                          "clone3", "personality-query", "personality-odd",
                                          "socket-vsock", "socket-unix"};

std::string import(it::Sandbox& box, const std::string& what, std::vector<E> entries) {
  auto tar = box.root().string() + "-" + what + ".tar";
  skiff::core::fs::write_file_atomic(tar, images::write_tar(entries));
  auto image = box.name(what) + ":1";
  auto r = box.run({"import", tar, image});
  std::error_code ec;
  stdfs::remove(tar, ec);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return image;
}

// busybox and the probe.
std::string probe_image(it::Sandbox& box) {
  return import(box, "probe",
                {E::directory("bin", 0755),
                 E::file("bin/busybox", skiff::core::fs::read_file(images::kBusyboxBinary), 0755),
                 E::symlink("bin/sh", "busybox"), E::symlink("bin/grep", "busybox"),
                 E::file("probe", skiff::core::fs::read_file(SKIFF_SYSCALL_PROBE), 0755),
                 E::directory("tmp", 01777)});
}

// "NAME: RESULT" lines → {NAME: RESULT}.
std::map<std::string, std::string> results(const it::Result& r) {
  std::map<std::string, std::string> out;
  for (const auto& line : it::lines(r.out))
    if (auto colon = line.find(": "); colon != std::string::npos) out[line.substr(0, colon)] = line.substr(colon + 2);
  return out;
}

std::map<std::string, std::string> probe(it::Sandbox& box, std::vector<std::string> args) {
  args.push_back("/probe");
  args.insert(args.end(), kProbes.begin(), kProbes.end());
  auto r = box.run(args);
  INFO(r.err);
  REQUIRE(r.code == 0);
  return results(r);
}

}  // namespace

TEST_CASE("seccomp: Docker's default profile refuses what Docker's refuses, and only the filter does", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto image = probe_image(box);
  auto status = box.run({"run", "--rm", image, "grep", "^Seccomp:", "/proc/self/status"});
  CHECK(trim(status.out) == "Seccomp:\t2");  // filter mode

  auto filtered = probe(box, {"run", "--rm", image});
  CHECK(filtered["getpid"] == "ok");
  CHECK(filtered["socket-unix"] == "ok");
  CHECK(filtered["personality-query"] == "ok");
  for (const char* refused : {"keyctl", "unshare-user", "mount", "kexec_load", "personality-odd", "socket-vsock"}) {
    INFO(refused);
    CHECK(filtered[refused] == "EPERM");
  }
  // clone3's flags are in memory, where a filter cannot look: Docker's
  // profile answers ENOSYS, and the C library falls back to clone.
  CHECK(filtered["clone3"] == "ENOSYS");

  // The same calls with the filter off: the kernel's own answers differ,
  // so the EPERMs above were the filter's.
  auto open = probe(box, {"run", "--rm", "--security-opt", "seccomp=unconfined", image});
  CHECK(open["keyctl"] == "ok");
  CHECK(open["unshare-user"] == "ok");
  CHECK(open["clone3"] == "EINVAL");  // the kernel: no struct given
  CHECK(open["personality-odd"] == "ok");
  auto off = box.run({"run", "--rm", "--security-opt", "seccomp=unconfined", image, "grep", "^Seccomp:", "/proc/self/status"});
  CHECK(trim(off.out) == "Seccomp:\t0");
}

TEST_CASE("seccomp: exec gets the container's filter, --privileged gets none", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto image = probe_image(box);
  auto name = box.name("filtered");
  REQUIRE(box.run({"run", "-d", "--name", name, image, "sh", "-c", "while :; do sleep 1; done"}).code == 0);
  auto r = box.run({"exec", name, "/probe", "keyctl", "unshare-user"});
  CHECK(results(r)["keyctl"] == "EPERM");
  CHECK(results(r)["unshare-user"] == "EPERM");
  REQUIRE(box.run({"rm", "-f", name}).code == 0);
  auto priv = box.run({"run", "--rm", "--privileged", image, "grep", "^Seccomp:", "/proc/self/status"});
  CHECK(trim(priv.out) == "Seccomp:\t0");
  // With CAP_SYS_ADMIN the profile opens unshare and mount (a run-time
  // compile: the capabilities differ from the built-in program's).
  auto admin = probe(box, {"run", "--rm", "--cap-add", "SYS_ADMIN", image});
  CHECK(admin["unshare-user"] == "ok");
  CHECK(admin["keyctl"] == "EPERM");
}

TEST_CASE("seccomp: a profile in Docker's format, and a bad one refused before anything is made", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto image = probe_image(box);
  auto profile = box.root().string() + "-profile.json";
  skiff::core::fs::write_file_atomic(profile, R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
  })");
  auto custom = probe(box, {"run", "--rm", "--security-opt", "seccomp=" + profile, image});
  CHECK(custom["getpid"] == "ENOSYS");
  CHECK(custom["keyctl"] == "ok");  // everything else allowed, as that profile says
  auto before = box.container_entries();
  skiff::core::fs::write_file_atomic(profile, R"({"defaultAction": "SCMP_ACT_SOMETIMES"})");
  auto bad = box.run({"run", "--rm", "--security-opt", "seccomp=" + profile, image, "true"});
  CHECK(bad.code == 125);
  CHECK(contains(bad.err, "seccomp profile " + profile + ": "));
  CHECK(it::lines(bad.err).size() == 1);
  auto missing = box.run({"run", "--rm", "--security-opt", "seccomp=/no/such.json", image, "true"});
  CHECK(missing.code == 125);
  CHECK(contains(missing.err, "opening seccomp profile (/no/such.json) failed"));
  CHECK(box.container_entries() == before);
  std::error_code ec;
  stdfs::remove(profile, ec);
}

TEST_CASE("seccomp: a Debian 12 userland does its everyday work under the default profile", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  if (!stdfs::exists("/usr/bin/python3") || !stdfs::exists("/usr/bin/apt-get")) {
    WARN("SKIP: this host has no python3 or apt-get to lend the container");
    return;
  }
  // A skeleton with Debian 12's merged /usr layout; the host's /usr, /etc
  // and dpkg's database are bound read-only over it.
  auto image = import(box, "debianish",
                      {E::symlink("bin", "usr/bin"), E::symlink("sbin", "usr/sbin"), E::symlink("lib", "usr/lib"),
                       E::symlink("lib64", "usr/lib64"), E::directory("usr", 0755), E::directory("etc", 0755),
                       E::directory("var", 0755), E::directory("var/lib", 0755), E::directory("tmp", 01777),
                       E::directory("root", 0700)});
  std::string script =
      "set -e; cd /tmp; echo b > x; echo a >> x; sort x | head -1; cp x y; ls | wc -l; "
      "date -u +%Y > /dev/null; stat -c %s x; tar czf t.tgz x y && tar tzf t.tgz | wc -l; "
      "python3 -c 'import json, socket, subprocess, threading; "
      "t = threading.Thread(target=lambda: None); t.start(); t.join(); "
      "print(json.dumps(subprocess.run([\"echo\", \"sub\"], capture_output=True, text=True).stdout.strip()))'; "
      "dpkg -s bash | grep -c '^Status: install ok installed'; "
      "apt-get -s -o Debug::NoLocking=1 check > /dev/null && echo apt-ok";
  auto r = box.run({"run", "--rm", "-v", "/usr:/usr:ro", "-v", "/etc:/etc:ro", "-v", "/var/lib/dpkg:/var/lib/dpkg:ro",
                    image, "bash", "-c", script});
  INFO(r.err);
  CHECK(r.code == 0);
  CHECK(it::lines(r.out) == std::vector<std::string>{"a", "2", "4", "2", "\"sub\"", "1", "apt-ok"});
}
