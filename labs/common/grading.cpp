// labs/common/grading.cpp — see grading.hpp.
#include "grading.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace lab {

namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("grader: " + what + ": " + std::strerror(errno));
}

// mountinfo escapes blanks and backslashes in paths as octal ("\040").
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool is_under(const stdfs::path& p, const stdfs::path& dir) {
  const auto rel = p.lexically_relative(dir);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

// ---- files -----------------------------------------------------------------

std::string read_file(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const stdfs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) fail("write " + path.string());
}

// The grader's one random generator, seeded from LAB_SEED when given (to
// replay a surprising grade: the same names and limits again), otherwise
// from the machine; the seed is printed on stderr either way.
std::mt19937_64& generator() {
  static std::mt19937_64 gen = [] {
    const char* given = std::getenv("LAB_SEED");
    std::uint64_t seed = given && *given ? std::strtoull(given, nullptr, 10)
                                         : (std::uint64_t{std::random_device{}()} << 32) | std::random_device{}();
    std::fprintf(stderr, "grader: random seed %llu (LAB_SEED=%llu replays it)\n",
                 static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    return std::mt19937_64{seed};
  }();
  return gen;
}

std::string random_token(std::size_t length) {
  auto& gen = generator();
  static const char digits[] = "0123456789abcdef";
  std::string s;
  for (std::size_t i = 0; i < length; ++i) s += digits[gen() % 16];
  return s;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

TempDir::TempDir(std::string_view tag) {
  std::string pattern = "/tmp/skiff-" + std::string(tag) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  // remove_all would walk into anything still mounted below us and delete
  // the mounted files: check first.
  for (const auto& m : host_mounts())
    if (is_under(m.mount_point, path_) || m.mount_point == path_) {
      std::cerr << "grader: " << m.mount_point << " is still mounted; leaving " << path_ << '\n';
      return;
    }
  std::error_code ec;
  stdfs::remove_all(path_, ec);
}

stdfs::path make_busybox_rootfs(const stdfs::path& dir) {
  for (const char* sub : {"bin", "dev", "proc", "tmp"}) stdfs::create_directories(dir / sub);
  const stdfs::path busybox = "/bin/busybox";
  if (!stdfs::exists(busybox))
    throw std::runtime_error("grader: /bin/busybox is missing (apt-get install busybox-static)");
  stdfs::copy_file(busybox, dir / "bin/busybox");
  // One link per applet (sh, ls, cat, mount, …), as `busybox --install -s`
  // would make inside the root.
  FILE* list = ::popen("/bin/busybox --list", "r");
  if (list == nullptr) fail("popen busybox --list");
  for (char name[256]; std::fgets(name, sizeof name, list) != nullptr;) {
    std::string applet(name);
    if (!applet.empty() && applet.back() == '\n') applet.pop_back();
    if (!applet.empty() && applet != "busybox") stdfs::create_symlink("busybox", dir / "bin" / applet);
  }
  ::pclose(list);
  if (!stdfs::is_symlink(dir / "bin/sh")) throw std::runtime_error("grader: busybox has no sh applet");
  return dir;
}

void install(const stdfs::path& program, const stdfs::path& rootfs) {
  stdfs::copy_file(program, rootfs / "bin" / program.filename(),
                   stdfs::copy_options::overwrite_existing);
}

// ---- mount tables ------------------------------------------------------------

std::vector<Mount> parse_mountinfo(const std::string& text) {
  std::vector<Mount> mounts;
  for (const auto& line : lines(text)) {
    std::istringstream in(line);
    Mount m;
    std::string devno, field;
    in >> m.id >> m.parent >> devno >> m.root >> m.mount_point;
    while (in >> field && field != "-") {}  // mount options, optional fields
    in >> m.fstype >> m.source;
    m.root = unescape(m.root);
    m.mount_point = unescape(m.mount_point);
    if (m.id != 0) mounts.push_back(m);
  }
  return mounts;
}

std::vector<Mount> host_mounts() { return parse_mountinfo(read_file("/proc/self/mountinfo")); }

std::string describe(const std::vector<Mount>& mounts) {
  std::string s;
  for (const auto& m : mounts)
    s += std::to_string(m.id) + " " + m.mount_point + " (" + m.fstype + " " + m.root + ")\n";
  return s;
}

// ---- running a program ---------------------------------------------------------

namespace {

// Runs in the forked wrapper: never returns, never throws. Its exit code is
// 0 when it could run the program (whose status is in IO/status).
[[noreturn]] void wrapper(const std::vector<std::string>& argv, const RunOptions& options,
                          const stdfs::path& io) {
  auto die = [](const char* what) {
    std::fprintf(stderr, "grader wrapper: %s: %s\n", what, std::strerror(errno));
    std::_Exit(100);
  };
  if (::unshare(CLONE_NEWNS) != 0) die("unshare(CLONE_NEWNS)");
  // First private, to cut every copied mount from the host's peer groups
  // (where / is shared, as under systemd, a copy is otherwise the host's
  // peer); then, for Mounts::Shared, shared again in new peer groups that
  // only this namespace and the ones the program makes belong to.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make / private");
  if (options.mounts == Mounts::Shared &&
      ::mount(nullptr, "/", nullptr, MS_REC | MS_SHARED, nullptr) != 0)
    die("make / shared");

  auto copy_mountinfo = [&](const char* name) {
    const std::string text = read_file("/proc/self/mountinfo");
    std::ofstream((io / name).string(), std::ios::trunc) << text;
  };
  copy_mountinfo("before");

  const pid_t child = ::fork();
  if (child < 0) die("fork");
  if (child == 0) {
    const int in = ::open("/dev/null", O_RDONLY);
    const int out = ::open((io / "out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open((io / "err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) die("open the output files");
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::close(in);
    ::close(out);
    ::close(err);
    if (::chdir(options.cwd.c_str()) != 0) die("chdir");
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "grader wrapper: exec %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(127);
  }
  if (options.while_running) {
    try {
      options.while_running();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "grader wrapper: while running: %s\n", e.what());
    }
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0)
    if (errno != EINTR) die("waitpid");
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ofstream((io / "status").string(), std::ios::trunc) << code << '\n';
  copy_mountinfo("after");
  std::_Exit(0);
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
    throw std::runtime_error("grader: run() needs an absolute program path");
  TempDir io("run");
  RunResult result;
  result.argv = argv;

  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::setpgid(0, 0);  // one process group: a timeout kills the program too
    wrapper(argv, options, io.path());
  }
  ::setpgid(pid, pid);

  // Wait, and kill the whole group when the time is up.
  const auto deadline = std::chrono::steady_clock::now() + options.timeout;
  int status = 0;
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) fail("waitpid");
    if (std::chrono::steady_clock::now() > deadline) {
      result.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(-pid, SIGKILL);  // anything the program left running in its group

  result.out = read_file(io / "out");
  result.err = read_file(io / "err");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 100)
    throw std::runtime_error("the grader's wrapper failed: " + result.err);
  if (const auto code = read_file(io / "status"); !code.empty()) result.exit_code = std::stoi(code);
  result.mounts_before = parse_mountinfo(read_file(io / "before"));
  result.mounts_after = parse_mountinfo(read_file(io / "after"));
  return result;
}

std::string RunResult::describe() const {
  std::string s = "exit code " + std::to_string(exit_code) + (timed_out ? " (killed: timed out)" : "");
  s += "; stderr: " + (err.empty() ? "(empty)" : err);
  s += "; stdout: " + (out.empty() ? "(empty)" : out);
  s += "; ran:";
  for (const auto& a : argv) s += " " + a;
  return s;
}

void serve_token(int ready, uint32_t address, const char* token) {
  const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in a {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = address;
  socklen_t len = sizeof a;
  if (server < 0 || ::bind(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(server, 8) != 0 || ::getsockname(server, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    ::_exit(1);
  const unsigned short port = ntohs(a.sin_port);
  if (::write(ready, &port, sizeof port) != sizeof port) ::_exit(1);
  ::close(ready);
  const auto size = std::strlen(token);
  for (;;) {
    const int conn = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) continue;
    if (::write(conn, token, size) < 0) {
    }
    ::close(conn);
  }
}

TokenServer spawn_token_server(uint32_t address, bool lo_up, const std::string& token, const std::string& what) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::runtime_error("grader: pipe: " + std::string(std::strerror(errno)));
  const pid_t parent = ::getpid();
  TokenServer server;
  server.pid = ::fork();
  if (server.pid < 0) throw std::runtime_error("grader: fork: " + std::string(std::strerror(errno)));
  if (server.pid == 0) {
    // The child: only system calls, then _exit; it dies with the grader.
    ::close(ready[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent || ::unshare(CLONE_NEWNET) != 0) ::_exit(1);
    if (lo_up) {
      const int ctl = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      struct ifreq req {};
      std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
      if (ctl < 0 || ::ioctl(ctl, SIOCGIFFLAGS, &req) != 0) ::_exit(1);
      req.ifr_flags |= IFF_UP;
      if (::ioctl(ctl, SIOCSIFFLAGS, &req) != 0) ::_exit(1);
      ::close(ctl);
    }
    serve_token(ready[1], address, token.c_str());
  }
  ::close(ready[1]);
  const auto n = ::read(ready[0], &server.port, sizeof server.port);
  ::close(ready[0]);
  if (n != sizeof server.port) {
    stop_process(server.pid);
    throw std::runtime_error("grader: " + what);
  }
  return server;
}

void stop_process(pid_t& pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid = -1;
}

}  // namespace lab
