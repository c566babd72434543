// labs/02-chroot/grader/checks.cpp — the checks of lab 02 (chroot → pivot_root).
//
// Each check builds its own root (busybox + the escape program + a file
// /proof holding a random token), runs the student's enter-root on it through
// lab::run() — in a mount namespace of the grader's, so nothing can leak to
// the host — and looks at what the command inside saw.
// A check's points are in its tag; labs/README.md says how they add up.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "grading.hpp"

namespace {

using lab::Mounts;
using lab::RunOptions;

const std::string kProgram = LAB_PROGRAM;
const std::string kChrootOnly = LAB_REFERENCE_CHROOT_ONLY;  // mutants/chroot_only

// One root per check, and a file that exists only on the host, outside it.
struct Root {
  lab::TempDir dir{"lab02"};
  lab::stdfs::path rootfs = lab::make_busybox_rootfs(dir / "rootfs");
  std::string token = lab::random_token();
  lab::stdfs::path host_only = dir / ("host-only-" + token);

  Root() {
    lab::install(LAB_HELPER_ESCAPE, rootfs);
    lab::write_file(rootfs / "proof", token + "\n");
    lab::write_file(host_only, "the host\n");
  }
  // enter-root ROOTFS ARGS..., started in the check's folder (not in ROOTFS).
  lab::RunResult enter(const std::string& program, std::vector<std::string> args,
                       Mounts mounts = Mounts::Private) const {
    args.insert(args.begin(), {program, rootfs.string()});
    return lab::run(args, RunOptions{.mounts = mounts, .cwd = dir.path()});
  }
  lab::RunResult sh(const std::string& script, Mounts mounts = Mounts::Private) const {
    return enter(kProgram, {"/bin/busybox", "sh", "-c", script}, mounts);
  }
};

std::string sorted_names(const lab::stdfs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : lab::stdfs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  std::string s;
  for (const auto& n : names) s += n + "\n";
  return s;
}

void escape_check(const char* how) {
  Root root;
  const std::vector<std::string> escape = {"/bin/escape", how, root.host_only.string()};

  // First the escape against chroot alone: it must get out, or this check
  // could not tell a real root from a chroot.
  const auto ref = root.enter(kChrootOnly, escape);
  INFO("the escape against chroot(2) alone (the lab's reference) —\n" << ref.describe());
  REQUIRE(ref.exit_code == 0);

  const auto r = root.enter(kProgram, escape);
  INFO("the escape against your enter-root —\n" << r.describe());
  INFO("exit code 0 = it reached the host, 1 = it stayed inside, 125 = enter-root failed");
  REQUIRE(r.exit_code == 1);
  CHECK(r.out == "contained\n");
}

}  // namespace

TEST_CASE("enters the new root: / is the rootfs, and the command starts in /", "[points=20]") {
  Root root;
  const auto r = root.sh("cat /proof; pwd; ls /");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == root.token + "\n/\n" + sorted_names(root.rootfs));
}

TEST_CASE("the chdir(\"..\") escape gets out of a chroot, not out of your root", "[points=15]") {
  escape_check("chdir");
}

TEST_CASE("the open-fd escape gets out of a chroot, not out of your root", "[points=15]") {
  escape_check("fd");
}

TEST_CASE("the old root is gone: no host path, no host mount inside", "[points=20]") {
  Root root;
  // ".." of "/" must be "/" itself; a host path must not resolve; and the
  // mount table seen inside must hold only the new root and the /proc that
  // this check mounts to read it.
  const auto r = root.sh("ls -a /..; echo ---; ls -a /; echo ---; "
                         "test -e " + root.host_only.string() + " && echo HOST-VISIBLE; "
                         "echo ---; mount -t proc proc /proc && cat /proc/self/mountinfo");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto parts = lab::lines(r.out);
  const auto sep1 = std::find(parts.begin(), parts.end(), "---");
  const auto sep2 = std::find(sep1 + (sep1 != parts.end()), parts.end(), "---");
  const auto sep3 = std::find(sep2 + (sep2 != parts.end()), parts.end(), "---");
  REQUIRE(sep3 != parts.end());
  {
    INFO("`ls -a /..` must list the same names as `ls -a /`: above the new root there is nothing");
    CHECK(std::vector<std::string>(parts.begin(), sep1) == std::vector<std::string>(sep1 + 1, sep2));
  }
  {
    const bool host_path_visible = std::find(sep2, sep3, "HOST-VISIBLE") != sep3;
    INFO(root.host_only.string() << " exists on the host only; it was seen inside");
    CHECK_FALSE(host_path_visible);
  }
  std::string text;
  for (auto it = sep3 + 1; it != parts.end(); ++it) text += *it + "\n";
  const auto inside = lab::parse_mountinfo(text);
  std::set<std::string> points;
  for (const auto& m : inside) points.insert(m.mount_point);
  INFO("mounts seen inside:\n" << lab::describe(inside));
  INFO("inside, only the new root (/) and the check's /proc may be mounted; "
       "anything else is the old root or its mounts");
  CHECK(points == std::set<std::string>{"/", "/proc"});
}

TEST_CASE("works where the host's mounts are shared, and leaves them as they were", "[points=15]") {
  // systemd makes "/" shared: mounts made in a copy of it would appear on
  // the host, and pivot_root refuses a shared root (EINVAL).
  Root root;
  const auto host_before = lab::host_mounts();
  const auto r = root.sh("cat /proof", Mounts::Shared);
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == root.token + "\n");
  {
    INFO("the (shared) host's mount table before:\n" << lab::describe(r.mounts_before)
         << "and after enter-root exited:\n" << lab::describe(r.mounts_after));
    CHECK(r.mounts_after == r.mounts_before);
  }
  CHECK(lab::host_mounts() == host_before);
}

TEST_CASE("reports errors: a missing rootfs gives a clear message and exit code 125", "[points=15]") {
  Root root;
  const auto missing = (root.dir / "no-such-rootfs").string();
  const auto r = lab::run({kProgram, missing, "/bin/busybox", "echo", "SHOULD-NOT-RUN"},
                          RunOptions{.cwd = root.dir.path()});
  INFO(r.describe());
  const bool command_ran = r.out.find("SHOULD-NOT-RUN") != std::string::npos;
  INFO("the command must not run when its root cannot be entered");
  CHECK_FALSE(command_ran);
  CHECK(r.exit_code == 125);
  const bool names_the_path = r.err.find(missing) != std::string::npos;
  const bool says_why = r.err.find("No such file or directory") != std::string::npos;
  INFO("the message on stderr must name the missing path and say why (strerror)");
  CHECK(names_the_path);
  CHECK(says_why);
}
