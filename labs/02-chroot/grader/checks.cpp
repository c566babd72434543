// labs/02-chroot/grader/checks.cpp — the checks of lab 02 (chroot → pivot_root).
//
// Each check builds its own root (busybox + the escape program + a file
// /proof holding a random token), runs the student's enter-root on it through
// lab::run() — in a mount namespace of the grader's, so nothing can leak to
// the host — and looks at what the command inside saw.
// A check's points are in its tag; labs/README.md says how they add up.
#include <catch2/catch.hpp>

#include <fcntl.h>

#include <algorithm>
#include <set>

#include "grading.hpp"

namespace {

using lab::Mounts;
using lab::RunOptions;

const std::string kProgram = LAB_PROGRAM;
const std::string kChrootOnly = LAB_REFERENCE_CHROOT_ONLY;          // mutants/chroot_only
const std::string kLeakedOldRoot = LAB_REFERENCE_LEAKED_OLD_ROOT;  // mutants/leaked_old_root

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

// Runs `escape HOW HOST_PATH` inside: first against REFERENCE, a runtime
// known to let it out (it must get out, or this check could not tell a real
// root from a wrong one), then against the student's enter-root. ADVICE,
// when given, is the first thing a failure's "why" says.
void escape_check(const char* how, const std::string& reference, const char* reference_is,
                  const char* advice = nullptr) {
  Root root;
  const std::vector<std::string> escape = {"/bin/escape", how, root.host_only.string()};

  const auto ref = root.enter(reference, escape);
  INFO("the escape against " << reference_is << " (the lab's reference) —\n" << ref.describe());
  REQUIRE(ref.exit_code == 0);

  const auto r = root.enter(kProgram, escape);
  INFO("the escape against your enter-root —\n" << r.describe());
  std::string legend = "exit code 0 = it reached the host, 1 = it stayed inside, "
                       "125 = enter-root failed";
  if (advice != nullptr) legend = std::string(advice) + " (" + legend + ")";
  INFO(legend);
  REQUIRE(r.exit_code == 1);
  CHECK(r.out == "contained\n");
}

// Marks every descriptor of the grader above stderr close-on-exec: whatever
// the command inside finds open was then opened by enter-root, not
// inherited from the grader (or from whatever started it).
void keep_the_graders_descriptors_out() {
  std::vector<int> fds;
  for (const auto& e : lab::stdfs::directory_iterator("/proc/self/fd"))
    fds.push_back(std::stoi(e.path().filename().string()));
  for (const int fd : fds)
    if (const int flags = ::fcntl(fd, F_GETFD); fd > 2 && flags != -1)
      ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

}  // namespace

TEST_CASE("enters the new root: / is the rootfs, and the command starts in /", "[points=15]") {
  Root root;
  const auto r = root.sh("cat /proof; pwd; ls /");
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == root.token + "\n/\n" + sorted_names(root.rootfs));
}

TEST_CASE("the chdir(\"..\") escape gets out of a chroot, not out of your root", "[points=15]") {
  escape_check("chdir", kChrootOnly, "chroot(2) alone");
}

TEST_CASE("the open-fd escape gets out of a chroot, not out of your root", "[points=15]") {
  escape_check("fd", kChrootOnly, "chroot(2) alone");
}

TEST_CASE("the old root is gone: no host path, no host mount inside", "[points=15]") {
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

TEST_CASE("no descriptor of the host reaches the command", "[points=15]") {
  // A directory descriptor opened on the host and left open across exec is a
  // way out of any root, pivot_root or not: the escape looks through every
  // descriptor it was started with (runc's CVE-2024-21626).
  keep_the_graders_descriptors_out();
  escape_check("fds", kLeakedOldRoot, "a runtime that leaves a descriptor of the old root open",
               "the command must start with stdin, stdout and stderr only: open a descriptor "
               "with O_CLOEXEC or close it (you need none)");
}

TEST_CASE("works where the host's mounts are shared, and leaves them as they were", "[points=15]") {
  // systemd makes "/" and every mount below it shared: mounts made in a copy
  // would appear on the host, and pivot_root refuses a shared root (EINVAL).
  // Below "/" here is a shared mount inside the rootfs, /shared, as the host
  // made it; the command mounts on it, and that must not reach the host.
  Root root;
  lab::stdfs::create_directories(root.rootfs / "shared");
  const auto shared = lab::stdfs::canonical(root.rootfs / "shared").string();
  const auto host_before = lab::host_mounts();
  // The host's shell: mounts ROOTFS/shared (shared), then becomes enter-root.
  const std::string host =
      "{ mount -t tmpfs lab02-shared \"$1/shared\" && mount --make-shared \"$1/shared\" && "
      "mkdir \"$1/shared/sub\"; } || exit 99; exec \"$2\" \"$1\" /bin/busybox sh -c "
      "'cat /proof && mount -t tmpfs lab02-inside /shared/sub'";
  const auto r = lab::run({"/bin/busybox", "sh", "-c", host, "sh", root.rootfs.string(), kProgram},
                          RunOptions{.mounts = Mounts::Shared, .cwd = root.dir.path()});
  INFO(r.describe());
  if (r.exit_code == 99)
    FAIL("the grader could not mount its tmpfs on " << shared << ": not your fault");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == root.token + "\n");
  // The host's table after, less the check's own mount on ROOTFS/shared.
  std::vector<lab::Mount> after;
  std::copy_if(r.mounts_after.begin(), r.mounts_after.end(), std::back_inserter(after),
               [&](const lab::Mount& m) { return m.mount_point != shared; });
  {
    const bool inside_mount_on_host =
        std::any_of(after.begin(), after.end(), [&](const lab::Mount& m) {
          return m.mount_point.rfind(shared + "/", 0) == 0;
        });
    INFO("the command mounted a tmpfs on /shared/sub inside, and it appeared on the host at "
         << shared << "/sub: the mounts below / are still shared with the host (MS_PRIVATE "
         "without MS_REC changes only the root mount). The host's mounts after:\n"
         << lab::describe(r.mounts_after));
    CHECK_FALSE(inside_mount_on_host);
  }
  {
    INFO("the (shared) host's mount table before:\n" << lab::describe(r.mounts_before)
         << "and after enter-root exited (less the check's own " << shared << "):\n"
         << lab::describe(after));
    CHECK(after == r.mounts_before);
  }
  CHECK(lab::host_mounts() == host_before);
}

TEST_CASE("reports errors: a missing rootfs gives a clear message and exit code 125", "[points=10]") {
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
