// labs/06-volumes/grader/checks.cpp — the checks of lab 06 (mount targets
// resolved inside the container's root).
//
// Each check builds a small "host" in a temporary folder, with the root of a
// container inside it and traps planted in that root:
//
//   TMP/host/etc/passwd                   the "host's" files: a sentinel
//   TMP/host/var/lib/rootfs/              the root (ROOT): etc/, etc/hostname, …
//   TMP/host/var/lib/rootfs-old/          a neighbour whose name starts like ROOT's
//
// then runs `mount-target [--create] ROOT PATH` and reads what it printed:
// the target's path as the kernel reports it (readlink of /proc/self/fd/N)
// and its type. Every check also compares everything under TMP/host but the
// root (names, types, modes, contents) before and after: nothing outside the
// root may be made or changed. A link that would be followed on the host
// while directories are made only ever points into TMP/host, so even a wrong
// submission cannot create anything on the real host; the only links to the
// real host's paths (/etc) are only looked up, or mounted on in a mount
// namespace of the program's own.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "grading.hpp"

namespace {

namespace stdfs = lab::stdfs;
using namespace std::chrono_literals;

const std::string kProgram = LAB_PROGRAM;
const std::string kKernelFollows = LAB_REFERENCE_KERNEL_FOLLOWS;  // mutants/kernel_follows

// Everything below DIR, one sorted line each ("name/", "name -> target",
// "name = contents", with the mode); SKIP is listed, not entered.
std::string listing(const stdfs::path& dir, const stdfs::path& skip) {
  std::vector<std::string> lines;
  std::error_code ec;
  for (auto it = stdfs::recursive_directory_iterator(dir, ec); !ec && it != stdfs::recursive_directory_iterator();
       it.increment(ec)) {
    const stdfs::path& p = it->path();
    std::string line = p.lexically_relative(dir).string();
    if (p == skip) {
      it.disable_recursion_pending();
      lines.push_back(line + "/ (the root: not compared)");
      continue;
    }
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) line += "/";
    if (S_ISLNK(st.st_mode)) line += " -> " + stdfs::read_symlink(p).string();
    if (S_ISREG(st.st_mode)) line += " = " + lab::read_file(p);
    char mode[32];
    std::snprintf(mode, sizeof mode, "  (mode %04o)", st.st_mode & 07777);
    lines.push_back(line + mode);
  }
  std::sort(lines.begin(), lines.end());
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// What mount-target printed, or why it failed.
struct Answer {
  lab::RunResult run;
  std::optional<std::string> path;  // "path: …"
  std::string type;                 // "type: …"
  std::string mounted_on;           // "mounted on: …" (--bind)
};

std::string after_prefix(const std::string& out, const std::string& prefix) {
  for (const auto& line : lab::lines(out))
    if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
  return {};
}

struct Stage {
  lab::TempDir tmp{"lab06"};
  std::string token = lab::random_token(8);
  stdfs::path host = tmp / "host";
  stdfs::path root = host / "var/lib/rootfs";
  stdfs::path neighbour = host / "var/lib/rootfs-old";

  Stage() {
    stdfs::create_directories(host / "etc");
    stdfs::create_directories(root / "etc");
    stdfs::create_directories(neighbour / "etc");
    lab::write_file(host / "etc/passwd", "root:x:0:0:" + token + ":/root:/bin/sh\n");
    lab::write_file(neighbour / "etc/old", "old " + token + "\n");
    lab::write_file(root / "etc/hostname", "container-" + token + "\n");
    lab::write_file(root / "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  }
  std::string host_state() const { return listing(host, root); }

  // A symlink NAME (in the root) → TARGET, made with its parents.
  void link(const std::string& name, const std::string& target) const {
    stdfs::create_directories((root / name).parent_path());
    stdfs::create_symlink(target, root / name);
  }
  void mkdir(const std::string& name) const { stdfs::create_directories(root / name); }
  void file(const std::string& name, const std::string& text) const {
    stdfs::create_directories((root / name).parent_path());
    lab::write_file(root / name, text);
  }
  // ROOT/REL as the kernel would print it.
  std::string in_root(const std::string& rel) const { return rel.empty() ? root.string() : (root / rel).string(); }

  Answer resolve(const std::string& path, bool create = false, const std::string& program = kProgram,
                 const std::string& bind_source = {}) const {
    std::vector<std::string> argv = {program};
    if (create) argv.push_back("--create");
    if (!bind_source.empty()) argv.insert(argv.end(), {"--bind", bind_source});
    argv.insert(argv.end(), {root.string(), path});
    Answer a;
    a.run = lab::run(argv, lab::RunOptions{.cwd = host / "etc", .timeout = 5s});
    if (a.run.exit_code == 0) a.path = after_prefix(a.run.out, "path: ");
    a.type = after_prefix(a.run.out, "type: ");
    a.mounted_on = after_prefix(a.run.out, "mounted on: ");
    return a;
  }
};

// PATH must resolve to ROOT/WANT, of type TYPE, and leave the host as it was.
void expect_found(const Stage& s, const std::string& path, const std::string& want, const std::string& type,
                  bool create = false) {
  const auto before = s.host_state();
  const auto a = s.resolve(path, create);
  INFO("mount-target " << (create ? "--create " : "") << "ROOT " << path << "\nROOT is " << s.root.string()
                       << "\n" << a.run.describe());
  INFO("expected: path: " << s.in_root(want) << " (type " << type << ")");
  REQUIRE(a.run.exit_code == 0);
  CHECK(a.path == s.in_root(want));
  CHECK(a.type == type);
  INFO("nothing outside the root may be made or changed. Before:\n" << before << "after:\n" << s.host_state());
  CHECK(s.host_state() == before);
}

// PATH must be refused with ERR (exit 125, strerror(ERR) in the message),
// leaving the host as it was.
void expect_refused(const Stage& s, const std::string& path, int err, bool create = false) {
  const auto before = s.host_state();
  const auto a = s.resolve(path, create);
  INFO("mount-target " << (create ? "--create " : "") << "ROOT " << path << "\nROOT is " << s.root.string()
                       << "\n" << a.run.describe());
  INFO("expected: refused with exit code 125 and \"" << std::strerror(err) << "\"");
  CHECK(!a.run.timed_out);
  CHECK(a.run.exit_code == 125);
  CHECK(a.run.err.find(std::strerror(err)) != std::string::npos);
  INFO("nothing outside the root may be made or changed. Before:\n" << before << "after:\n" << s.host_state());
  CHECK(s.host_state() == before);
}

bool is_dir(const stdfs::path& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The kernel's own answer: openat2(RESOLVE_IN_ROOT), as "path: …" or the
// strerror of its failure.
std::string openat2_answer(const stdfs::path& root, const std::string& path) {
  const int root_fd = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) throw std::runtime_error("grader: open " + root.string());
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT;
  const int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, path.c_str(), &how, sizeof how));
  const int err = errno;
  ::close(root_fd);
  if (fd < 0) return std::string("error: ") + std::strerror(err);
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
  ::close(fd);
  return "path: " + std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace

TEST_CASE("plain paths: directories, a file, missing parts made with --create", "[points=10]") {
  const Stage s;
  expect_found(s, "/", "", "directory");
  expect_found(s, "/etc", "etc", "directory");
  expect_found(s, "//etc/./hostname", "etc/hostname", "file");
  expect_found(s, "etc/", "etc", "directory");
  const std::string fresh = "new-" + s.token + "/a/b";
  expect_refused(s, "/" + fresh, ENOENT);
  expect_found(s, "/" + fresh, fresh, "directory", true);
  INFO("the directories made are mode 0755");
  CHECK((stdfs::status(s.root / ("new-" + s.token)).permissions() & stdfs::perms::all) ==
        (stdfs::perms::owner_all | stdfs::perms::group_read | stdfs::perms::group_exec |
         stdfs::perms::others_read | stdfs::perms::others_exec));
}

TEST_CASE("an absolute symlink is followed inside the root: /data -> /etc is the root's etc", "[points=15]") {
  const Stage s;
  s.link("data", "/etc");
  s.link("conf", "/etc/hostname");
  // First, the trap is real: looked up by the host's kernel, ROOT/data is the
  // host's /etc.
  const auto naive = s.resolve("/data", false, kKernelFollows);
  INFO("a walk that lets the kernel follow links (the lab's reference) —\n" << naive.run.describe());
  REQUIRE(naive.path == "/etc");
  expect_found(s, "/data", "etc", "directory");
  expect_found(s, "/data/hostname", "etc/hostname", "file");
  INFO("a symlink as the last component is followed too: a mount goes where it points");
  expect_found(s, "/conf", "etc/hostname", "file");
}

TEST_CASE("a bind mount through /data -> /etc covers the root's etc, never the host's", "[points=10]") {
  const Stage s;
  s.link("data", "/etc");
  const auto source = s.tmp / ("volume-" + s.token);
  stdfs::create_directories(source);
  const auto before = s.host_state();
  const auto a = s.resolve("/data", true, kProgram, source.string());
  INFO("mount-target --bind " << source.string() << " ROOT /data\nROOT is " << s.root.string() << "\n"
                              << a.run.describe());
  INFO("expected: mounted on: " << s.in_root("etc"));
  REQUIRE(a.run.exit_code == 0);
  CHECK(a.mounted_on == s.in_root("etc"));
  CHECK(s.host_state() == before);
}

TEST_CASE("a symlink that climbs out with ../../.. stops at the root", "[points=10]") {
  const Stage s;
  // From ROOT, ../../.. is TMP/host: its etc/ holds the sentinel passwd.
  s.link("up", "../../..");
  s.link("a/b/up2", "../../../../../etc");
  expect_found(s, "/up", "", "directory");
  expect_found(s, "/up/etc/passwd", "etc/passwd", "file");
  expect_found(s, "/a/b/up2", "etc", "directory");
  const std::string made = "made-" + s.token;
  expect_found(s, "/up/" + made, made, "directory", true);
  CHECK(!stdfs::exists(s.host / made));
}

TEST_CASE(".. in the path stops at the root", "[points=10]") {
  const Stage s;
  s.mkdir("a");
  expect_found(s, "/../../../etc", "etc", "directory");
  expect_found(s, "/etc/../../../etc/hostname", "etc/hostname", "file");
  expect_found(s, "/a/../../etc", "etc", "directory");
  expect_found(s, "..", "", "directory");
  const std::string made = "made-" + s.token;
  expect_found(s, "/../../" + made, made, "directory", true);
}

TEST_CASE("chains of symlinks, absolute and relative, from subdirectories", "[points=10]") {
  const Stage s;
  s.file("opt/app/settings", "settings " + s.token);
  s.mkdir("var/log");
  s.link("srv/app/conf", "/etc/app");   // absolute, from a subdirectory
  s.link("etc/app", "../opt/app");      // relative, from etc/
  s.link("srv/app/logs", "../../var/log");
  s.link("srv/current", "app");
  s.link("cfg", "srv/current/conf");
  expect_found(s, "/srv/app/conf/settings", "opt/app/settings", "file");
  expect_found(s, "/srv/app/logs", "var/log", "directory");
  expect_found(s, "/cfg", "opt/app", "directory");
  expect_found(s, "/srv/current/logs/../../etc/hostname", "etc/hostname", "file");
}

TEST_CASE("a symlink loop is refused with ELOOP, not a hang", "[points=10]") {
  const Stage s;
  s.link("loop-a", "loop-b");
  s.link("loop-b", "/loop-a");
  s.link("self", "./self");
  expect_refused(s, "/loop-a", ELOOP);
  expect_refused(s, "/self/x", ELOOP, true);
  CHECK(!stdfs::exists(s.root / "x"));
  // The kernel's limit: 40 symlinks in one lookup. hop-1 -> hop-2 … -> etc.
  for (int i = 1; i <= 41; ++i)
    s.link("hop-" + std::to_string(i), i == 41 ? "/etc" : "hop-" + std::to_string(i + 1));
  expect_found(s, "/hop-2", "etc", "directory");  // 40 links
  expect_refused(s, "/hop-1", ELOOP);             // 41
}

TEST_CASE("a file in the middle of the path is refused with ENOTDIR", "[points=5]") {
  const Stage s;
  s.link("hn", "etc/hostname");  // relative: a wrong walk reaches the same file
  expect_refused(s, "/etc/hostname/x", ENOTDIR);
  expect_refused(s, "/etc/hostname/../passwd", ENOTDIR);
  expect_refused(s, "/hn/x", ENOTDIR, true);
  CHECK(!stdfs::exists(s.root / "x"));
}

TEST_CASE("a dangling symlink's target is made inside the root", "[points=15]") {
  const Stage s;
  // Absolute targets name a place in TMP/host: followed on the host, they
  // would make a folder there, beside the sentinel.
  const std::string srv = (s.host / ("srv-" + s.token)).string();
  s.link("data", srv);
  s.link("logs", "../../../logs-" + s.token);
  s.link("deep/cache", (s.host / ("cache-" + s.token) / "sub").string());
  expect_refused(s, "/data", ENOENT);
  expect_found(s, "/data", srv.substr(1), "directory", true);
  expect_found(s, "/logs/app", "logs-" + s.token + "/app", "directory", true);
  expect_found(s, "/deep/cache/x", (s.host / ("cache-" + s.token) / "sub/x").string().substr(1), "directory",
               true);
  INFO("the link itself stays a link");
  CHECK(stdfs::is_symlink(s.root / "data"));
  CHECK(is_dir(s.root / srv.substr(1)));
}

TEST_CASE("agrees with openat2(RESOLVE_IN_ROOT) on a tree of traps", "[points=5]") {
  const Stage s;
  s.file("opt/app/settings", "x");
  s.link("data", "/etc");
  s.link("up", "../../..");
  s.link("srv/app/conf", "/etc/app");
  s.link("etc/app", "../opt/app");
  s.link("old", "../rootfs-old/etc");
  s.link("loop", "loop");
  s.link("dangling", "/nowhere-" + s.token);
  s.link("hn", "etc/hostname");
  const std::vector<std::string> paths = {
      "/data",        "/data/hostname",    "/up/data",       "/srv/app/conf/settings", "/old",
      "/old/old",     "/../data/../up/hn", "/loop",          "/dangling",              "/hn",
      "/hn/x",        "/up/../../srv/app", "etc/app/../etc", "/srv/app/conf/../..",   "/data/passwd"};
  for (const auto& p : paths) {
    const auto kernel = openat2_answer(s.root, p);
    const auto a = s.resolve(p);
    const std::string ours = a.run.exit_code == 0 ? "path: " + a.path.value_or("") : "error: " + a.run.err;
    INFO("mount-target ROOT " << p << "\nROOT is " << s.root.string() << "\n" << a.run.describe());
    INFO("openat2(RESOLVE_IN_ROOT) says: " << kernel);
    if (kernel.rfind("path: ", 0) == 0) CHECK(ours == kernel);
    else CHECK(ours.find(kernel.substr(7)) != std::string::npos);
  }
}
