// labs/07-none-and-host/grader/checks.cpp — the checks of lab 07 (none, host,
// container: networks).
//
// Each check plays the host in a network namespace of the grader's own
// (HostNet): the grader itself moves into a fresh one, with lo DOWN and one
// more device (a tun device, which lives only while the grader holds it open),
// runs the student's netns-lab in it through lab::run(), and moves back. So
// nothing a wrong submission does to "the host's" network reaches the
// machine's, and a check can see it: the real host's lo is always up, this one
// is down until someone touches it. The command is grader/probe.c, which says
// what it sees from inside. `container` checks join a peer (Peer), a process
// the grader forks into a namespace of its own, with lo up and a listener on
// 127.0.0.1. No packet leaves a namespace the check made; every namespace,
// process and file a check makes is gone when it ends, failed or not.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <set>
#include <stdexcept>

#include "grading.hpp"

namespace {

const std::string kProgram = LAB_PROGRAM;
const std::string kProbe = LAB_HELPER_PROBE;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("grader: " + what + ": " + std::strerror(errno));
}

std::set<std::string> parse_devices(const std::string& text) {
  std::set<std::string> names;
  for (const auto& line : lab::lines(text))
    if (!line.empty()) names.insert(line);
  return names;
}

std::string describe(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
  return s.empty() ? "(none)" : s;
}

unsigned long long inode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail("stat " + path);
  return st.st_ino;
}

// Whether lo is UP in the namespace the calling process is in now (a socket
// belongs to the namespace it is made in).
bool lo_is_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  const int rc = ::ioctl(s, SIOCGIFFLAGS, &req);
  ::close(s);
  if (rc != 0) fail("ioctl(SIOCGIFFLAGS, lo)");
  return (req.ifr_flags & IFF_UP) != 0;
}

// The host of one check: the grader moves itself into a new network
// namespace, where lo is down and a tun device is the one other device, and
// moves back to the machine's at the end. Whatever netns-lab is started
// meanwhile starts here.
class HostNet {
 public:
  HostNet() {
    original_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0) fail("open /proc/self/ns/net");
    if (::unshare(CLONE_NEWNET) != 0) {
      ::close(original_);
      fail("unshare(CLONE_NEWNET)");
    }
    // A non-persistent tun device: it goes away when tun_ is closed.
    device_ = "skt" + lab::random_token(8);
    tun_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    struct ifreq req {};
    std::strncpy(req.ifr_name, device_.c_str(), IFNAMSIZ - 1);
    req.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (tun_ < 0 || ::ioctl(tun_, TUNSETIFF, &req) != 0) {
      const int error = errno;
      restore();
      errno = error;
      fail("make a tun device in the grader's own network namespace (/dev/net/tun)");
    }
    inode_ = inode_of("/proc/self/ns/net");
    devices_ = read_devices();
  }
  ~HostNet() { restore(); }
  HostNet(const HostNet&) = delete;
  HostNet& operator=(const HostNet&) = delete;

  unsigned long long inode() const { return inode_; }
  const std::set<std::string>& devices() const { return devices_; }
  const std::string& device() const { return device_; }
  static std::set<std::string> read_devices() {
    std::set<std::string> names;
    const auto all = lab::lines(lab::read_file("/proc/net/dev"));
    for (std::size_t i = 2; i < all.size(); ++i) {
      const auto colon = all[i].find(':');
      if (colon == std::string::npos) continue;
      const auto name = all[i].substr(0, colon);
      names.insert(name.substr(name.find_first_not_of(' ')));
    }
    return names;
  }

 private:
  void restore() {
    if (tun_ >= 0) ::close(tun_);
    tun_ = -1;
    if (original_ >= 0 && ::setns(original_, CLONE_NEWNET) != 0)
      std::cerr << "grader: cannot go back to the machine's network namespace: "
                << std::strerror(errno) << '\n';
    if (original_ >= 0) ::close(original_);
    original_ = -1;
  }

  int original_ = -1;
  int tun_ = -1;
  std::string device_;
  unsigned long long inode_ = 0;
  std::set<std::string> devices_;
};

// Another "container": a child of the grader in a network namespace of its
// own, lo up, that answers every connection to 127.0.0.1:port() with
// token() and closes it. Killed and reaped at the end.
class Peer {
 public:
  Peer() {
    auto server = lab::spawn_token_server(htonl(INADDR_LOOPBACK), true, token_,
                                          "the peer process could not set up its network");
    pid_ = server.pid;
    port_ = server.port;
    inode_ = inode_of("/proc/" + std::to_string(pid_) + "/ns/net");
  }
  ~Peer() { stop(); }
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  pid_t pid() const { return pid_; }
  unsigned port() const { return port_; }
  unsigned long long inode() const { return inode_; }
  const std::string& token() const { return token_; }

 private:
  void stop() { lab::stop_process(pid_); }

  std::string token_ = lab::random_token(16);
  pid_t pid_ = -1;
  unsigned port_ = 0;
  unsigned long long inode_ = 0;
};

// netns-lab MODE... -- probe ARGS...
lab::RunResult run(std::vector<std::string> mode, const std::vector<std::string>& probe) {
  std::vector<std::string> argv{kProgram};
  argv.insert(argv.end(), mode.begin(), mode.end());
  argv.push_back("--");
  argv.push_back(kProbe);
  argv.insert(argv.end(), probe.begin(), probe.end());
  return lab::run(argv);
}

unsigned long long inode_in(const lab::RunResult& r) {
  return r.out.empty() ? 0 : std::stoull(r.out);
}

// A pid that ran a moment ago and is gone (reaped): pids are handed out in
// increasing order, so it is not reused within a check.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) ::_exit(0);
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
  return pid;
}

}  // namespace

TEST_CASE("none gets a network namespace of its own, host keeps the host's", "[points=15]") {
  HostNet host;
  const auto none = run({"none"}, {"netns"});
  {
    INFO(none.describe());
    REQUIRE(none.exit_code == 0);
    INFO("with none, the command's /proc/self/ns/net must be another namespace than the host's "
         "(inode " << host.inode() << "), it is inode " << none.out);
    CHECK(inode_in(none) != host.inode());
  }
  const auto same = run({"host"}, {"netns"});
  {
    INFO(same.describe());
    REQUIRE(same.exit_code == 0);
    INFO("with host, the command's /proc/self/ns/net must be the host's (inode " << host.inode() << ")");
    CHECK(inode_in(same) == host.inode());
  }
  const auto devices = run({"host"}, {"devices"});
  INFO(devices.describe());
  REQUIRE(devices.exit_code == 0);
  INFO("with host, the command must see the host's devices: " << describe(host.devices()));
  CHECK(parse_devices(devices.out) == host.devices());
}

TEST_CASE("none: the only network device inside is lo", "[points=10]") {
  HostNet host;
  const auto r = run({"none"}, {"devices"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  const auto seen = parse_devices(r.out);
  INFO("devices in /proc/net/dev inside: " << describe(seen) << " (the host has "
       << describe(host.devices()) << "); expected lo alone");
  CHECK(seen == std::set<std::string>{"lo"});
}

TEST_CASE("none: lo is up inside", "[points=10]") {
  HostNet host;  // its lo is down: a command still in the host's stack sees "lo down"
  const auto r = run({"none"}, {"lo"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("inside, SIOCGIFFLAGS on lo must show IFF_UP (a new namespace's lo starts down)");
  CHECK(r.out == "lo up\n");
}

TEST_CASE("none: a TCP connection over 127.0.0.1 works inside", "[points=15]") {
  HostNet host;
  const auto token = lab::random_token(12);
  const auto r = run({"none"}, {"tcp-self", token});
  INFO(r.describe());
  INFO("inside, a listener on 127.0.0.1 and a client that connects to it must exchange "
       << token << " (with lo down, connect fails: Network is unreachable)");
  CHECK(r.exit_code == 0);
  CHECK(r.out == token + "\n");
}

TEST_CASE("none: the host's network is left as it was", "[points=10]") {
  HostNet host;
  REQUIRE_FALSE(lo_is_up());
  const auto token = lab::random_token(12);
  const auto r = run({"none"}, {"say", token});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out == token + "\n");
  INFO("the host's lo was down before netns-lab none ran; after it, it must still be: "
       "the lo brought up must be the new namespace's, not the host's");
  CHECK_FALSE(lo_is_up());
  INFO("the host's devices must be the same: " << describe(host.devices()));
  CHECK(HostNet::read_devices() == host.devices());
}

TEST_CASE("container: the command joins the other process's network namespace", "[points=15]") {
  HostNet host;
  Peer peer;
  const auto r = run({"container", std::to_string(peer.pid())}, {"netns"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("the command's /proc/self/ns/net must be the one of pid " << peer.pid() << " (inode "
       << peer.inode() << "); the host's is inode " << host.inode());
  CHECK(inode_in(r) == peer.inode());
}

TEST_CASE("container: the command reaches a listener on the other process's 127.0.0.1", "[points=10]") {
  HostNet host;
  Peer peer;
  const auto r = run({"container", std::to_string(peer.pid())}, {"connect", std::to_string(peer.port())});
  INFO(r.describe());
  INFO("pid " << peer.pid() << " listens on its own 127.0.0.1:" << peer.port() << " and answers "
       << peer.token() << "; a command that joined its network must get that answer");
  CHECK(r.exit_code == 0);
  CHECK(r.out == peer.token() + "\n");
}

TEST_CASE("container: a pid that is not running stops netns-lab with an error", "[points=10]") {
  HostNet host;
  const pid_t dead = dead_pid();
  const auto marker = "SHOULD-NOT-RUN-" + lab::random_token(6);
  const auto r = run({"container", std::to_string(dead)}, {"say", marker});
  INFO(r.describe());
  {
    INFO("pid " << dead << " does not exist: the command must not run (in the host's network)");
    CHECK(r.out.find(marker) == std::string::npos);
  }
  INFO("netns-lab must exit with 125 and say why on stderr, naming /proc/" << dead
       << "/ns/net and errno's text (No such file or directory)");
  CHECK(r.exit_code == 125);
  CHECK(r.err.find("/proc/" + std::to_string(dead)) != std::string::npos);
  CHECK(r.err.find(std::strerror(ENOENT)) != std::string::npos);
}

TEST_CASE("container: joining leaves the host's network as it was", "[points=5]") {
  HostNet host;
  Peer peer;
  REQUIRE_FALSE(lo_is_up());
  const auto r = run({"container", std::to_string(peer.pid())}, {"say", "joined"});
  INFO(r.describe());
  REQUIRE(r.exit_code == 0);
  INFO("the host's lo was down before netns-lab container " << peer.pid()
       << " ran; after it, it must still be: joining changes nothing in the host's stack");
  CHECK_FALSE(lo_is_up());
  CHECK(HostNet::read_devices() == host.devices());
}
