// labs/08-bridge/grader/network.hpp — what the checks of lab 08 stand on: a
// host namespace of the grader's own (HostNet), "containers" (Container),
// a moment in another namespace (InNamespace), what `ip link`, `ip address`
// and `ip route` would show there (read with libnl), and TCP clients.
// Everything here acts on the namespace the grader is in when it is called;
// the machine's own is only ever left and re-entered (HostNet).
#pragma once

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "grading.hpp"

namespace net {

// Throws std::runtime_error("grader: WHAT: strerror(errno)").
[[noreturn]] void fail(const std::string& what);
// A random number from LOW to HIGH, as text (lab::generator()).
std::string random_number_text(unsigned low, unsigned high);

// ---- what `ip link`, `ip address` and `ip route` show ---------------------------------

struct Device {
  int index = 0;
  std::string kind;  // "bridge", "veth", "tun"; empty for lo
  bool up = false;
  std::string master;                // the bridge it is a port of, or empty
  std::set<std::string> addresses;   // IPv4, "10.88.0.1/16"
  bool operator==(const Device&) const = default;
};
using Devices = std::map<std::string, Device>;

// The devices of the grader's current namespace, with their IPv4 addresses.
Devices devices_here();
std::set<std::string> names_of(const Devices& devices);
std::string describe(const Devices& devices);
std::string describe(const std::set<std::string>& names);

struct Route {
  std::string destination;  // "default" or "10.88.0.0/16"
  std::string gateway;      // empty when none
  std::string device;
};

// The IPv4 routes of the main table (`ip route`) of the current namespace.
std::vector<Route> routes_here();
std::string describe(const std::vector<Route>& routes);

// IFF_UP on the device NAME, and CIDR on it if not empty: the grader's own
// setting up of its host namespace (never of the machine's).
void set_up(const std::string& name, const std::string& cidr);

// ---- TCP, from the current namespace (every socket gives up after 3 s) ----------------

int tcp_socket();
sockaddr_in ipv4(const std::string& address, unsigned port);
// Connects S to ADDRESS:PORT; "" or what went wrong.
std::string connect_to(int s, const std::string& address, unsigned port);
// What S receives until the other side closes (or 3 s pass).
std::string read_all(int s);
// What the listener at ADDRESS:PORT answers, or "(…what went wrong)".
std::string fetch(const std::string& address, unsigned port);

// ---- namespaces and processes --------------------------------------------------

// The host of one check: the grader moves itself into a new network
// namespace and makes it look like a host: lo up, and eth0 (a tun device)
// up with an address. It moves back to the machine's namespace at the end;
// the tun device goes when its descriptor is closed.
class HostNet {
 public:
  HostNet() {
    original_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (original_ < 0) fail("open /proc/self/ns/net");
    if (::unshare(CLONE_NEWNET) != 0) {
      ::close(original_);
      fail("unshare(CLONE_NEWNET)");
    }
    // From here on the grader is in its own namespace: all it changes is there.
    try {
      tun_ = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
      struct ifreq req {};
      std::strncpy(req.ifr_name, "eth0", IFNAMSIZ - 1);
      req.ifr_flags = IFF_TUN | IFF_NO_PI;
      if (tun_ < 0 || ::ioctl(tun_, TUNSETIFF, &req) != 0)
        fail("make a tun device eth0 in the grader's own network namespace (/dev/net/tun)");
      address_ = "192.0.2." + random_number_text(2, 254);
      set_up("lo", "");
      set_up("eth0", address_ + "/24");
      devices_ = devices_here();
    } catch (...) {
      restore();
      throw;
    }
  }
  ~HostNet() { restore(); }
  HostNet(const HostNet&) = delete;
  HostNet& operator=(const HostNet&) = delete;

  // The devices as they were before bridge-lab ran.
  const Devices& devices() const { return devices_; }
  // eth0's address: outside the bridge's subnet.
  const std::string& address() const { return address_; }

 private:
  void restore() {
    if (tun_ >= 0) ::close(tun_);
    tun_ = -1;
    if (original_ >= 0 && ::setns(original_, CLONE_NEWNET) != 0) {
      std::cerr << "grader: cannot go back to the machine's network namespace: "
                << std::strerror(errno) << '\n';
      std::abort();
    }
    if (original_ >= 0) ::close(original_);
    original_ = -1;
  }

  int original_ = -1;
  int tun_ = -1;
  std::string address_;
  Devices devices_;
};

// The grader in the network namespace of process PID while this lives.
class InNamespace {
 public:
  explicit InNamespace(pid_t pid) {
    back_ = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (back_ < 0 || target < 0) {
      if (back_ >= 0) ::close(back_);
      if (target >= 0) ::close(target);
      fail("open " + path);
    }
    const int rc = ::setns(target, CLONE_NEWNET);
    ::close(target);
    if (rc != 0) {
      ::close(back_);
      fail("setns(" + path + ")");
    }
  }
  ~InNamespace() {
    if (::setns(back_, CLONE_NEWNET) != 0) {
      std::cerr << "grader: cannot go back to the host's network namespace: " << std::strerror(errno) << '\n';
      std::abort();
    }
    ::close(back_);
  }
  InNamespace(const InNamespace&) = delete;
  InNamespace& operator=(const InNamespace&) = delete;

 private:
  int back_ = -1;
};

// A "container": a child of the grader in a network namespace of its own,
// where nothing is set up (lo down, no other device), that answers every TCP
// connection to port() on any of its addresses with token(). bridge-lab is to
// give it HOST_END's peer as eth0, with ADDRESS. Killed and reaped at the end.
// (Where the kernel adds its fallback tunnels, tunl0, sit0…, to every new
// namespace, they are there too: devices() says what it had at the start.)
class Container {
 public:
  Container(std::string host_end, std::string address)
      : host_end_(std::move(host_end)), address_(std::move(address)) {
    auto server = lab::spawn_token_server(htonl(INADDR_ANY), false, token_,
                                          "a container process could not start its listener");
    pid_ = server.pid;
    port_ = server.port;
    try {
      InNamespace in(pid_);
      devices_ = names_of(devices_here());
    } catch (...) {
      stop();
      throw;
    }
  }
  ~Container() { stop(); }
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;

  pid_t pid() const { return pid_; }
  unsigned port() const { return port_; }
  const std::string& token() const { return token_; }
  const std::string& host_end() const { return host_end_; }
  const std::string& address() const { return address_; }
  // The names of its devices before bridge-lab ran: lo (and fallback tunnels).
  const std::set<std::string>& devices() const { return devices_; }
  std::set<std::string> devices_and(const std::string& name) const {
    auto names = devices_;
    names.insert(name);
    return names;
  }

 private:
  void stop() { lab::stop_process(pid_); }

  std::string host_end_;
  std::string address_;
  std::string token_ = lab::random_token(16);
  pid_t pid_ = -1;
  unsigned port_ = 0;
  std::set<std::string> devices_;
};

}  // namespace net
