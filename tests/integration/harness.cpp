// tests/integration/harness.cpp — see harness.hpp.
#include "harness.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <sstream>
#include <thread>

namespace it {
namespace {

using Clock = std::chrono::steady_clock;
const Seconds kTimeout(60);

int code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

double seconds(const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; }

// In the child: become `skiff ARGS` with SKIFF_ROOT=ROOT. Never returns.
[[noreturn]] void exec_skiff(const stdfs::path& root, const std::vector<std::string>& args, int in,
                             int out, int err) {
  ::dup2(in, STDIN_FILENO);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(err, STDERR_FILENO);
  ::signal(SIGPIPE, SIG_DFL);  // ignored in the harness; not in a container
  ::setenv("SKIFF_ROOT", root.c_str(), 1);
  std::vector<char*> argv{const_cast<char*>(SKIFF_BIN)};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(SKIFF_BIN, argv.data());
  std::perror("exec " SKIFF_BIN);
  ::_exit(127);
}

// Feeds stdin and drains stdout and stderr together until both close, so
// neither side can block the other on a full pipe.
bool pump(int in, int out, int err, const std::string& input, Result& r, Clock::time_point end) {
  size_t written = 0;
  if (input.empty()) ::close(in), in = -1;
  int fds[3] = {out, err, in};
  std::string* sinks[2] = {&r.out, &r.err};
  while (fds[0] >= 0 || fds[1] >= 0) {
    pollfd p[3] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}, {fds[2], POLLOUT, 0}};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    if (left <= 0) break;
    if (::poll(p, 3, static_cast<int>(left)) < 0 && errno != EINTR) break;
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i], buf, sizeof buf);
      if (n > 0) sinks[i]->append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EINTR)) ::close(fds[i]), fds[i] = -1;
    }
    if (fds[2] >= 0 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      ssize_t n = ::write(fds[2], input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 || written == input.size()) ::close(fds[2]), fds[2] = -1;
    }
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
  return fds[0] < 0 && fds[1] < 0;
}

// Runs `skiff ARGS`; false if it had to be killed at the deadline.
bool run_skiff(const stdfs::path& root, const std::vector<std::string>& args,
               const std::string& input, Seconds timeout, Result& r) {
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) return false;
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(timeout);
  pid_t pid = ::fork();
  if (pid == 0) exec_skiff(root, args, in[0], out[1], err[1]);
  for (int fd : {in[0], out[1], err[1]}) ::close(fd);
  bool drained = pump(in[1], out[0], err[0], input, r, end);
  int status = 0;
  rusage ru{};
  pid_t got = 0;
  while ((got = ::wait4(pid, &status, WNOHANG, &ru)) == 0 && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(drained ? 1 : 20));
  bool finished = got == pid;
  if (!finished) {
    ::kill(pid, SIGKILL);
    while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
    }
  }
  r.code = code_of(status);
  r.wall_seconds = Seconds(Clock::now() - start).count();
  r.cpu_seconds = seconds(ru.ru_utime) + seconds(ru.ru_stime);
  return finished;
}

std::string describe(const std::vector<std::string>& args) {
  std::string s = "skiff";
  for (const auto& a : args) s += " " + a;
  return s;
}

bool is_id(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

// --- Background --------------------------------------------------------------

Background::Background(pid_t pid, stdfs::path out, stdfs::path err)
    : pid_(pid), out_(std::move(out)), err_(std::move(err)), started_(Clock::now()) {}

Background::Background(Background&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      out_(o.out_),
      err_(o.err_),
      status_(o.status_),
      started_(o.started_) {}

Background::~Background() {
  if (pid_ <= 0 || status_ >= 0) return;
  ::kill(pid_, SIGKILL);
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
}

bool Background::finished() {
  if (status_ >= 0) return true;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
  status_ = status;
  return true;
}

Result Background::wait(Seconds timeout) {
  auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(timeout);
  while (!finished() && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (!finished()) FAIL("a background skiff did not finish within " << timeout.count() << " s");
  Result r;
  r.code = code_of(status_);
  r.out = read_file(out_);
  r.err = read_file(err_);
  r.wall_seconds = Seconds(Clock::now() - started_).count();
  return r;
}

void Background::wait_for_output(const std::string& text) {
  auto end = Clock::now() + std::chrono::seconds(10);
  while (!contains(read_file(out_), text) && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  INFO("stdout: " << read_file(out_) << "\nstderr: " << read_file(err_));
  REQUIRE(contains(read_file(out_), text));
}

// --- PrivateHostNetwork ------------------------------------------------------

PrivateHostNetwork::PrivateHostNetwork() {
  original_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original_ < 0) FAIL("open(/proc/self/ns/net): " << std::strerror(errno));
  if (::unshare(CLONE_NEWNET) < 0) FAIL("unshare(CLONE_NEWNET): " << std::strerror(errno));
  sh("ip link set lo up");
}

PrivateHostNetwork::~PrivateHostNetwork() {
  // Back where the test began; the namespace dies with its last process.
  if (original_ >= 0 && ::setns(original_, CLONE_NEWNET) < 0)
    std::fprintf(stderr, "setns(back to the test's network namespace): %s\n", std::strerror(errno));
  if (original_ >= 0) ::close(original_);
}

std::string PrivateHostNetwork::sh(const std::string& command, bool may_fail) const {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) FAIL("popen(" << command << "): " << std::strerror(errno));
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  INFO(command << ": " << out);
  if (!may_fail) REQUIRE(status == 0);
  return out;
}

// --- Sandbox -----------------------------------------------------------------

Sandbox::Sandbox() {
  char dir[] = "/tmp/skiff-it-XXXXXX";
  if (!::mkdtemp(dir)) FAIL("mkdtemp: " << std::strerror(errno));
  root_ = dir;
  for (const auto& d : all_skiff_cgroup_dirs()) cgroups_before_.insert(d);
  // Network safety: a test that runs a missing image makes skiff pull it;
  // Docker Hub's stand-in is then a closed loopback port, never the internet
  // (a registry test that needs one sets its own).
  ::setenv("SKIFF_DOCKER_HUB", "127.0.0.1:9", 0);
}

std::string Sandbox::name(const std::string& what) const {
  return "it" + std::to_string(::getpid()) + "-" + what;
}

Result Sandbox::run(const std::vector<std::string>& args, const std::string& stdin_text) {
  Result r;
  if (!run_skiff(root_, args, stdin_text, kTimeout, r))
    FAIL(describe(args) << " did not finish within " << kTimeout.count()
                        << " s (killed)\nstdout: " << r.out << "\nstderr: " << r.err);
  return r;
}

Background Sandbox::spawn(const std::vector<std::string>& args) {
  int n = ++spawned_;
  auto out = root_ / ("bg-" + std::to_string(n) + ".out");
  auto err = root_ / ("bg-" + std::to_string(n) + ".err");
  int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = ::fork();
  if (pid == 0) exec_skiff(root_, args, null, o, e);
  for (int fd : {null, o, e}) ::close(fd);
  if (pid < 0) FAIL("fork: " << std::strerror(errno));
  return Background(pid, out, err);
}

nlohmann::json Sandbox::inspect(const std::string& key) {
  auto r = run({"inspect", key});
  INFO("inspect " << key << ": " << r.err);
  REQUIRE(r.code == 0);
  auto all = nlohmann::json::parse(r.out);
  REQUIRE(all.size() == 1);
  return all[0];
}

nlohmann::json Sandbox::wait_running(const std::string& key) {
  auto end = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < end) {
    Result r;
    if (run_skiff(root_, {"inspect", key}, "", kTimeout, r) && r.code == 0) {
      auto j = nlohmann::json::parse(r.out, nullptr, false);
      if (!j.is_discarded() && j.size() == 1 && j[0]["State"]["Running"] == true) return j[0];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("container " << key << " was not running within 10 s");
  return {};
}

std::set<std::string> Sandbox::container_entries() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : stdfs::directory_iterator(root_ / "containers", ec))
    if (e.path().filename() != "by-name" && e.path().filename() != "lock")
      out.insert(e.path().filename().string());
  return out;
}

bool Sandbox::run_quietly(const std::vector<std::string>& args, Result& r) noexcept {
  try {
    return run_skiff(root_, args, "", Seconds(30), r);
  } catch (...) {
    return false;
  }
}

// Containers whose record is gone (--rm) are known only by their cgroup:
// one that appeared since the sandbox was made and was then abandoned.
std::vector<stdfs::path> Sandbox::abandoned_without_record(const std::set<std::string>& ids) const {
  std::vector<stdfs::path> fresh;
  for (const auto& dir : all_skiff_cgroup_dirs())
    if (!cgroups_before_.count(dir) && !ids.count(dir.filename().string())) fresh.push_back(dir);
  return abandoned(fresh);
}

// What skiff should have taken down with its containers, described.
std::string Sandbox::leftovers(const std::set<std::string>& ids) const {
  std::string found;
  for (const auto& id : ids)
    for (const auto& dir : cgroup_dirs(id)) found += "cgroup " + dir.string() + "\n";
  for (const auto& dir : abandoned_without_record(ids))
    found += "cgroup (no record) " + dir.string() + "\n";
  for (const auto& line : mountinfo_lines_containing(root_.string()))
    found += "mount " + line + "\n";
  for (const auto& cmd : command_lines_containing(root_.string())) found += "process " + cmd + "\n";
  return found;
}

void Sandbox::force_clean(const std::set<std::string>& ids) noexcept {
  try {
    for (const auto& id : ids)
      for (const auto& dir : cgroup_dirs(id)) {
        for (const auto& pid : lines(read_file(dir / "cgroup.procs")))
          ::kill(std::stoi(pid), SIGKILL);
        for (int i = 0; i < 50 && ::rmdir(dir.c_str()) < 0 && errno == EBUSY; ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    for (const auto& dir : abandoned_without_record(ids)) ::rmdir(dir.c_str());
    // Deepest first: a mount point's parent mount goes after it.
    std::vector<std::string> points;
    for (const auto& line : mountinfo_lines_containing(root_.string())) {
      std::istringstream fields(line);
      std::string f, point;
      for (int i = 0; i < 5 && fields >> f; ++i) point = f;
      if (point.rfind(root_.string(), 0) == 0) points.push_back(point);
    }
    std::sort(points.rbegin(), points.rend());
    for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
    std::error_code ec;
    // Never walk into a mount that refused to go: it may not be ours.
    if (mountinfo_lines_containing(root_.string()).empty()) stdfs::remove_all(root_, ec);
  } catch (...) {
  }
}

Sandbox::~Sandbox() {
  std::set<std::string> ids;
  for (auto entry : container_entries()) {
    for (const char* prefix : {".new-", ".rm-"})
      if (entry.rfind(prefix, 0) == 0) entry = entry.substr(std::strlen(prefix));
    if (is_id(entry)) ids.insert(entry);
  }
  Result listed, removed;
  if (run_quietly({"ps", "-aq", "--no-trunc"}, listed) && !trim(listed.out).empty()) {
    std::vector<std::string> rm = {"rm", "-f"};
    for (const auto& id : lines(listed.out)) rm.push_back(trim(id));
    run_quietly(rm, removed);
  }
  // A test that already failed has said why; a passing one fails here if
  // skiff's own rm -f left anything behind.
  if (std::uncaught_exceptions() == 0) {
    // A monitor killed with its container may take a moment to exit.
    auto end = Clock::now() + std::chrono::seconds(2);
    std::string left = leftovers(ids);
    while (!left.empty() && Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      left = leftovers(ids);
    }
    INFO("skiff rm -f left behind:\n" << left);
    CHECK(left.empty());
  }
  force_clean(ids);
}

}  // namespace it
