// tests/integration/test_exe_attack.cpp — CVE-2019-5736 run for real: a
// container tries to overwrite the skiff binary that started it, through
// /proc/self/exe and a hostile dynamic loader (probes/exe_attack.c). The
// test runs a copy of skiff and skiff-monitor from a temporary directory,
// so that the attack, when it works, spoils nothing but the copy. Against
// the default pipeline the copy stays byte for byte the same: `run` execs
// the command from a sealed stub, so /proc/self/exe never is skiff, and
// `exec` runs skiff from a read-only view of itself (EROFS); against
// `--upto cgroups` (stops before 11-security, so skiff runs from its file)
// the same attack writes it: the test can tell. Lesson: 11-security.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

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

// A copy of skiff and skiff-monitor in a directory of the test's own, run
// with the sandbox's store.
struct BinaryCopy {
  stdfs::path dir = stdfs::temp_directory_path() / ("skiff-it-exe-" + std::to_string(::getpid()));
  stdfs::path skiff = dir / "skiff";
  std::string original;
  BinaryCopy() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
    stdfs::create_directories(dir);
    stdfs::copy_file(SKIFF_BIN, skiff);
    stdfs::copy_file(stdfs::path(SKIFF_BIN).parent_path() / "skiff-monitor", dir / "skiff-monitor");
    original = it::read_file(skiff);
  }
  ~BinaryCopy() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
  }
  bool unchanged() const { return it::read_file(skiff) == original; }
  it::Result run(const it::Sandbox& box, const std::string& args) const {
    it::Result r;
    std::string cmd = "SKIFF_ROOT=" + box.root().string() + " SKIFF_DOCKER_HUB=127.0.0.1:9 " +
                      skiff.string() + " " + args + " > " + (dir / "out").string() + " 2> " +
                      (dir / "err").string();
    r.code = WEXITSTATUS(std::system(cmd.c_str()));
    r.out = it::read_file(dir / "out");
    r.err = it::read_file(dir / "err");
    return r;
  }
};

// busybox, the probe as the image's dynamic loader and as /attacker, and
// /evil, the script that makes the kernel run /proc/self/exe again.
std::string attack_image(it::Sandbox& box) {
  std::string probe = skiff::core::fs::read_file(SKIFF_EXE_ATTACK);
  std::vector<E> entries = {
      E::directory("bin", 0755),
      E::file("bin/busybox", skiff::core::fs::read_file(images::kBusyboxBinary), 0755),
      E::symlink("bin/sh", "busybox"),
      E::symlink("bin/sleep", "busybox"),
      E::directory("lib64", 0755),
      E::file("lib64/ld-linux-x86-64.so.2", probe, 0755),
      E::file("attacker", probe, 0755),
      E::file("evil", "#!/proc/self/exe\n", 0755),
      E::directory("out", 0755)};
  auto tar = box.root().parent_path() / (box.root().filename().string() + "-exe.tar");
  skiff::core::fs::write_file_atomic(tar, images::write_tar(entries));
  auto image = box.name("exeattack") + ":1";
  auto r = box.run({"import", tar.string(), image});
  std::error_code ec;
  stdfs::remove(tar, ec);
  REQUIRE(r.code == 0);
  return image;
}

// The probe writes its outcome to /out/result: "wrote" or "refused ERRNO".
// Up to 60 s: the probe itself gives up after 500 tries 20 ms apart, which
// a micro-VM under TCG stretches well past 10 s (tests/vm).
std::string wait_for_result(const stdfs::path& out) {
  for (int i = 0; i < 1200; ++i) {
    auto text = trim(it::read_file(out / "result"));
    if (!text.empty()) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "(no result)";
}

struct OutDir {
  stdfs::path dir;
  explicit OutDir(const it::Sandbox& box) : dir(box.root().string() + "-out") { stdfs::create_directories(dir); }
  ~OutDir() {
    std::error_code ec;
    stdfs::remove_all(dir, ec);
  }
};

}  // namespace

TEST_CASE("the /proc/self/exe attack cannot write skiff's binary, from run or from exec", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  BinaryCopy bin;
  auto image = attack_image(box);
  {
    OutDir out(box);
    // run execs the command from the sealed stub: /proc/self/exe, which
    // /evil names as its interpreter, is the stub again, which refuses to
    // be anything but a last step. The probe never runs.
    auto r = bin.run(box, "run --rm -v " + out.dir.string() + ":/out " + image + " /evil");
    INFO(r.err);
    CHECK(r.code == 127);
    CHECK(contains(r.err, "skiff-exec-stub: not a command"));
    CHECK(it::read_file(out.dir / "result").empty());
    CHECK(bin.unchanged());
  }
  {
    OutDir out(box);
    auto name = box.name("exeexec");
    auto r = bin.run(box, "run -d --name " + name + " -v " + out.dir.string() + ":/out " + image + " sleep 300");
    INFO(r.err);
    REQUIRE(r.code == 0);
    r = bin.run(box, "exec -d " + name + " /evil");
    INFO(r.err);
    CHECK(r.code == 0);
    CHECK(wait_for_result(out.dir) == "refused 30");
    CHECK(bin.unchanged());
    REQUIRE(box.run({"rm", "-f", name}).code == 0);
  }
}

TEST_CASE("the same attack writes the binary when skiff runs from its file (--upto cgroups)", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  BinaryCopy bin;
  auto image = attack_image(box);
  OutDir out(box);
  // -d: the CLI leaves at once, and with it the last process running the
  // file (the monitor is another binary): the write then succeeds.
  auto r = bin.run(box, "run -d --rm --upto cgroups -v " + out.dir.string() + ":/out " + image + " /evil");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(wait_for_result(out.dir) == "wrote");
  CHECK_FALSE(bin.unchanged());
  CHECK(contains(it::read_file(bin.skiff), "owned by the container"));
}
