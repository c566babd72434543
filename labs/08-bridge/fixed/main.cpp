// labs/08-bridge/fixed/main.cpp — bridge-lab: a bridge network, by hand.
//
//   bridge-lab bridge NAME GATEWAY/PREFIX
//       a bridge NAME in this network namespace, holding GATEWAY, up
//   bridge-lab connect BRIDGE HOST-END PID ADDRESS/PREFIX GATEWAY
//       a veth pair: HOST-END a port of BRIDGE here, the other end eth0 in
//       the network namespace of process PID, with ADDRESS and a default
//       route via GATEWAY
//
// This file is given and fixed: it checks the arguments, calls your
// functions (bridge.hpp) in order, and joins PID's namespace between parts 2
// and 3. bridge-lab exits right after, so moving itself there is harmless.
// Exit codes: 0 done; 125 when something fails (the message says what).
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>

#include "bridge.hpp"

namespace {

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int usage() {
  std::cerr << "usage: bridge-lab bridge NAME GATEWAY/PREFIX\n"
               "       bridge-lab connect BRIDGE HOST-END PID ADDRESS/PREFIX GATEWAY\n";
  return 125;
}

// A device name the kernel accepts: 1 to 15 characters, no '/', no blank.
std::string device_name(const std::string& text) {
  if (text.empty() || text.size() >= IFNAMSIZ || text.find_first_of("/: \t\n") != std::string::npos)
    throw Usage("'" + text + "' is not a device name (1 to 15 characters)");
  return text;
}

std::string dotted_quad(const std::string& text) {
  in_addr binary{};
  if (::inet_pton(AF_INET, text.c_str(), &binary) != 1)
    throw Usage("'" + text + "' is not an IPv4 address");
  return text;
}

// "10.88.0.2/16" → {"10.88.0.2", 16}.
lab::Ipv4 with_prefix(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) throw Usage("'" + text + "' has no /PREFIX");
  const std::string digits = text.substr(slash + 1);
  char* end = nullptr;
  const long prefix = std::strtol(digits.c_str(), &end, 10);
  if (digits.empty() || *end != '\0' || prefix < 1 || prefix > 30)
    throw Usage("'" + text + "': the prefix length must be 1 to 30");
  return {dotted_quad(text.substr(0, slash)), static_cast<int>(prefix)};
}

pid_t process_id(const std::string& text) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value <= 0) throw Usage("'" + text + "' is not a process id");
  return static_cast<pid_t>(value);
}

// A descriptor closed on every way out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

int bridge(char* argv[]) {
  lab::make_bridge(device_name(argv[0]), with_prefix(argv[1]));
  return 0;
}

int connect(char* argv[]) {
  const std::string bridge = device_name(argv[0]);
  const std::string host_end = device_name(argv[1]);
  const pid_t pid = process_id(argv[2]);
  const lab::Ipv4 address = with_prefix(argv[3]);
  const std::string gateway = dotted_quad(argv[4]);

  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  Fd netns{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  lab::check(netns.fd, "open " + path);
  // A temporary name for the namespace's end while it is still in the
  // host's namespace, where eth0 is most likely taken.
  const std::string peer = "peer" + std::to_string(::getpid());

  lab::plug_into_bridge(bridge, host_end, peer, netns.fd);
  lab::check(::setns(netns.fd, CLONE_NEWNET), "setns(" + path + ", CLONE_NEWNET)");
  lab::set_up_inside(peer, address, gateway);
  return 0;
}

}  // namespace

int main(int argc, char* argv[]) {
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "bridge" && argc == 4) return bridge(argv + 2);
    if (command == "connect" && argc == 7) return connect(argv + 2);
    return usage();
  } catch (const Usage& e) {
    std::cerr << "bridge-lab: " << e.what() << '\n';
    return usage();
  } catch (const std::exception& e) {
    std::cerr << "bridge-lab: " << e.what() << '\n';
    return 125;
  }
}
