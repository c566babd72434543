// tests/integration/test_device_filter.cpp — the v2 device program in the
// kernel: a cgroup of the test's own on this machine's cgroup2 mount, a
// child moved into it, and device nodes it tries to open. Lessons:
// lessons/04-cgroups, lessons/11-security; module: runtime/04-cgroups
// (device_filter). Needs root and a kernel with cgroup BPF.
//
// The nodes are made by the test, outside the cgroup, in a directory of its
// own: one for the block device the host's root filesystem lives on, and
// /dev/null- and /dev/zero-like ones. Each check of "refused inside" is
// paired with "works outside", so a node that could not be opened anyway
// fails the test instead of passing it. The disk is only ever opened,
// never read or written. (Some hosts refuse every open of the mounted root
// disk, even to root and outside any cgroup — this machine's VM does; then
// the test takes the first other block device that opens, a loop or zram
// device, and says which.)
//
// A Guard owns the cgroup, the child and the directory, and removes them
// even when a check fails half-way.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "04-cgroups/cgroups.hpp"
#include "04-cgroups/device_filter.hpp"
#include "core/error.hpp"
#include "harness.hpp"

namespace {

namespace cg = skiff::cgroups;
namespace stdfs = std::filesystem;

[[noreturn]] void skip(const std::string& why) {
  std::printf("SKIP: %s\n", why.c_str());
  std::exit(4);
}

// Where this machine mounts cgroup2: /sys/fs/cgroup on a pure v2 host,
// /sys/fs/cgroup/unified on a hybrid one. Field 5 of mountinfo is the mount
// point; the filesystem type follows the " - " separator.
std::optional<stdfs::path> cgroup2_mount() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos || line.compare(sep + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream fields(line.substr(0, sep));
    std::string id, parent, devno, root, mount_point;
    if (fields >> id >> parent >> devno >> root >> mount_point) return stdfs::path(mount_point);
  }
  return std::nullopt;
}

// Skips unless this test can run here; returns the cgroup2 hierarchy.
cg::Hierarchy require_cgroup_bpf() {
  it::require_root();
  auto mount = cgroup2_mount();
  if (!mount) skip("no cgroup2 filesystem is mounted");
  try {
    cg::load_device_program(cg::device_program({}));
  } catch (const skiff::core::SystemError& e) {
    if (e.err() == EINVAL || e.err() == ENOSYS)
      skip(std::string("the kernel cannot load cgroup device programs: ") + e.what());
    throw;
  }
  return {cg::Version::v2, *mount};
}

std::string numbers(dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); }

// The device number of the disk under /, when it is a real block device
// (not an overlay or a tmpfs, whose device numbers are anonymous: major 0).
std::optional<dev_t> root_disk() {
  struct stat st{};
  REQUIRE(::stat("/", &st) == 0);
  if (major(st.st_dev) == 0 || !stdfs::exists("/sys/dev/block/" + numbers(st.st_dev))) return std::nullopt;
  return st.st_dev;
}

// The host's block devices, the root disk first.
std::vector<dev_t> block_devices() {
  std::vector<dev_t> out;
  if (auto disk = root_disk()) out.push_back(*disk);
  for (const auto& entry : stdfs::directory_iterator("/sys/dev/block")) {
    unsigned maj = 0, min = 0;
    if (std::sscanf(entry.path().filename().c_str(), "%u:%u", &maj, &min) != 2) continue;
    if (out.empty() || makedev(maj, min) != out.front()) out.push_back(makedev(maj, min));
  }
  return out;
}

// How many programs are attached to DIR for BPF_CGROUP_DEVICE (its own, not
// its ancestors'): what `bpftool cgroup show DIR` lists.
uint32_t attached_programs(const stdfs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.query.target_fd = static_cast<uint32_t>(fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  long rc = ::syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof attr);
  int err = errno;
  ::close(fd);
  INFO("BPF_PROG_QUERY: " << std::strerror(err));
  REQUIRE(rc == 0);
  return attr.query.prog_cnt;
}

// Owns the test's cgroup (under skiff-test-<pid>/ of the cgroup2 mount), the
// child inside it, and a directory for device nodes.
class Guard {
 public:
  Guard(cg::Hierarchy h, const std::string& leaf)
      : h_(std::move(h)), name_("skiff-test-" + std::to_string(::getpid()) + "/" + leaf) {
    std::string pattern = (stdfs::temp_directory_path() / "skiff-devices-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    nodes_ = pattern;
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  ~Guard() {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
    try {
      cg::Cgroup::open(h_, name_).remove();  // and skiff-test-<pid>/ once empty
    } catch (...) {
    }
    std::error_code ec;
    stdfs::remove_all(nodes_, ec);
  }

  const cg::Hierarchy& hierarchy() const { return h_; }
  const std::string& name() const { return name_; }
  stdfs::path dir() const { return h_.root / name_; }
  stdfs::path node(const std::string& n) const { return nodes_ / n; }
  void hold(pid_t child) { child_ = child; }
  void release_child() { child_ = -1; }

  // A node made by the test, outside the cgroup.
  stdfs::path make_node(const std::string& n, mode_t type, dev_t dev) {
    auto path = node(n);
    REQUIRE(::mknod(path.c_str(), type | 0600, dev) == 0);
    return path;
  }

  // The block device the test guards: the root disk if root may open it
  // here, outside the cgroup, else the first other that opens.
  dev_t pick_disk() {
    auto probe = node("probe");
    for (dev_t dev : block_devices()) {
      REQUIRE(::mknod(probe.c_str(), S_IFBLK | 0600, dev) == 0);
      int fd = ::open(probe.c_str(), O_RDONLY | O_CLOEXEC);
      ::unlink(probe.c_str());
      if (fd < 0) continue;
      ::close(fd);
      if (dev != root_disk())
        std::printf("note: the root disk does not open here; using block device %s\n", numbers(dev).c_str());
      return dev;
    }
    std::error_code ec;
    stdfs::remove_all(nodes_, ec);  // skip() exits: no destructor will run
    skip("no block device of this host can be opened, even outside a cgroup");
  }

 private:
  cg::Hierarchy h_;
  std::string name_;
  stdfs::path nodes_;
  pid_t child_ = -1;
};

// A check run by the child: 0 when it worked, otherwise the errno.
using Probe = std::function<int()>;

int opens(const stdfs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

// /dev/null: takes a write, reads as end of file.
int null_works(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return errno;
  char c = 'x';
  int rc = (::write(fd, &c, 1) == 1 && ::read(fd, &c, 1) == 0) ? 0 : EIO;
  ::close(fd);
  return rc;
}

// /dev/zero: reads as zeros.
int zero_works(const stdfs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[16];
  std::memset(buf, 'x', sizeof buf);
  bool zeros = ::read(fd, buf, sizeof buf) == sizeof buf;
  for (char c : buf) zeros = zeros && c == 0;
  ::close(fd);
  return zeros ? 0 : EIO;
}

int makes(const stdfs::path& path, mode_t type, dev_t dev) {
  return ::mknod(path.c_str(), type | 0600, dev) == 0 ? 0 : errno;
}

// Forks a child that moves itself into the guard's cgroup and runs PROBES
// there; returns what each probe returned.
std::vector<int> run_inside(Guard& guard, const std::vector<Probe>& probes) {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    try {
      cg::Cgroup::open(guard.hierarchy(), guard.name()).add_process(::getpid());
    } catch (...) {
      ::_exit(3);
    }
    std::vector<int> results;
    for (const auto& probe : probes) results.push_back(probe());
    auto size = static_cast<ssize_t>(results.size() * sizeof(int));
    ::_exit(::write(fds[1], results.data(), results.size() * sizeof(int)) == size ? 0 : 2);
  }
  guard.hold(pid);
  ::close(fds[1]);
  std::vector<int> results(probes.size(), -1);
  auto want = static_cast<ssize_t>(results.size() * sizeof(int));
  ssize_t got = ::read(fds[0], results.data(), want);
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  guard.release_child();
  INFO("the child's status: " << status << " (3: it could not join the cgroup)");
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == want);
  return results;
}

}  // namespace

TEST_CASE("v2 device program: the host's disk is refused, /dev/null and /dev/zero work",
          "[integration][cgroups][devices]") {
  auto h = require_cgroup_bpf();
  Guard guard(h, "default");
  dev_t disk = guard.pick_disk();
  auto c = cg::Cgroup::create(h, guard.name(), {});
  CHECK(attached_programs(guard.dir()) == 1);

  auto disk_node = guard.make_node("disk", S_IFBLK, disk);
  auto null_node = guard.make_node("null", S_IFCHR, makedev(1, 3));
  auto zero_node = guard.make_node("zero", S_IFCHR, makedev(1, 5));
  auto kmsg_node = guard.make_node("kmsg", S_IFCHR, makedev(1, 11));
  // Outside the cgroup every node opens: the refusals below are the program's.
  CHECK(opens(disk_node, O_RDONLY) == 0);
  CHECK(opens(kmsg_node, O_RDONLY) == 0);
  CHECK(null_works(null_node) == 0);

  auto made_inside = guard.node("disk-made-inside");
  auto r = run_inside(guard, {
                                 [&] { return opens(disk_node, O_RDONLY); },
                                 [&] { return opens(disk_node, O_WRONLY); },
                                 [&] { return opens(kmsg_node, O_RDONLY); },
                                 [&] { return null_works(null_node); },
                                 [&] { return zero_works(zero_node); },
                                 // "b *:* m": making a node is allowed…
                                 [&] { return makes(made_inside, S_IFBLK, disk); },
                                 // …opening it is not.
                                 [&] { return opens(made_inside, O_RDONLY); },
                             });
  CHECK(r[0] == EPERM);
  CHECK(r[1] == EPERM);
  CHECK(r[2] == EPERM);
  CHECK(r[3] == 0);
  CHECK(r[4] == 0);
  CHECK(r[5] == 0);
  CHECK(r[6] == EPERM);
  CHECK(opens(made_inside, O_RDONLY) == 0);  // the node itself is fine
}

TEST_CASE("v2 device program: an extra rule (as --device adds it) gives read, not write",
          "[integration][cgroups][devices]") {
  auto h = require_cgroup_bpf();
  Guard guard(h, "extra");
  dev_t disk = guard.pick_disk();
  cg::Limits limits;
  limits.devices = {{'b', static_cast<int>(major(disk)), static_cast<int>(minor(disk)), "r"}};
  auto c = cg::Cgroup::create(h, guard.name(), limits);
  CHECK(attached_programs(guard.dir()) == 1);

  auto disk_node = guard.make_node("disk", S_IFBLK, disk);
  auto null_node = guard.make_node("null", S_IFCHR, makedev(1, 3));
  auto r = run_inside(guard, {
                                 [&] { return opens(disk_node, O_RDONLY); },
                                 [&] { return opens(disk_node, O_WRONLY); },
                                 [&] { return opens(disk_node, O_RDWR); },
                                 [&] { return null_works(null_node); },
                             });
  CHECK(r[0] == 0);
  CHECK(r[1] == EPERM);
  CHECK(r[2] == EPERM);
  CHECK(r[3] == 0);
}

TEST_CASE("v2 all_devices (--privileged) attaches no program", "[integration][cgroups][devices][kernel]") {
  auto h = require_cgroup_bpf();
  Guard guard(h, "privileged");
  dev_t disk = guard.pick_disk();
  cg::Limits limits;
  limits.all_devices = true;
  auto c = cg::Cgroup::create(h, guard.name(), limits);
  CHECK(attached_programs(guard.dir()) == 0);
  auto disk_node = guard.make_node("disk", S_IFBLK, disk);
  auto r = run_inside(guard, {[&] { return opens(disk_node, O_RDONLY); }});
  CHECK(r[0] == 0);
}

TEST_CASE("v2 device program: a program the verifier rejects says why", "[integration][cgroups][devices][kernel]") {
  require_cgroup_bpf();
  // "exit" with r0 never set: the verifier refuses to return garbage.
  std::vector<bpf_insn> bad{{BPF_JMP | BPF_EXIT, 0, 0, 0, 0}};
  try {
    cg::load_device_program(bad);
    FAIL("the kernel loaded a program that returns an unset register");
  } catch (const skiff::core::SystemError& e) {
    std::string msg = e.what();
    INFO(msg);
    CHECK(e.err() == EACCES);
    CHECK_THAT(msg, Catch::StartsWith("bpf(BPF_PROG_LOAD, BPF_PROG_TYPE_CGROUP_DEVICE, 1 insns; verifier: "));
    CHECK_THAT(msg, Catch::Contains("R0 !read_ok"));
  }
}

TEST_CASE("v2 device program: attaching to a directory that is no cgroup fails clearly",
          "[integration][cgroups][devices]") {
  require_cgroup_bpf();
  auto program = cg::load_device_program(cg::device_program(cg::default_device_rules()));
  try {
    cg::attach_device_program("/tmp", program);
    FAIL("attached a device program to /tmp");
  } catch (const skiff::core::SystemError& e) {
    CHECK(e.err() == EBADF);
    CHECK_THAT(e.what(), Catch::StartsWith("bpf(BPF_PROG_ATTACH, /tmp, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI; "
                                           "not a cgroup2 directory)"));
  }
}
