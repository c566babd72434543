// labs/08-bridge/grader/checks.cpp — the checks of lab 08 (a bridge network
// for network namespaces, by hand with libnl).
//
// Each check plays the host in a network namespace of the grader's own
// (HostNet): the grader moves itself into a fresh one, gives it what a host
// has (lo up, and an "eth0": a tun device, which lives only while the grader
// holds it open, with an address of 192.0.2.0/24), runs the student's
// bridge-lab in it through lab::run(), and moves back to the machine's at the
// end. The "containers" (Container) are children of the grader, each in a
// network namespace of its own, that answer a random token to every TCP
// connection. The grader looks at what bridge-lab made as `ip link`, `ip
// address` and `ip route` would show it, with libnl, from the namespace it
// looks at (it joins a container's for a moment: InNamespace). Traffic only
// flows between these namespaces. When a check ends, failed or not, its
// containers are killed and the grader leaves its host namespace: with no
// process left in them, the namespaces are freed, and every bridge and veth
// in them with them. The machine's own network is never touched. Those
// pieces are in network.hpp; this file has the plan of a check's network and
// the checks.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "grading.hpp"
#include "network.hpp"

using net::Container;
using net::Device;
using net::Devices;
using net::HostNet;
using net::InNamespace;
using net::Route;
using net::connect_to;
using net::describe;
using net::devices_here;
using net::fail;
using net::fetch;
using net::ipv4;
using net::names_of;
using net::read_all;
using net::routes_here;
using net::tcp_socket;

namespace {

const std::string kProgram = LAB_PROGRAM;

// ---- the network of a check ------------------------------------------------------

// A bridge and its subnet, all random: 10.x.y.z/16 to /28, the gateway and
// the containers' addresses anywhere in it, the device names made up.
class Plan {
 public:
  Plan() {
    auto& gen = lab::generator();
    prefix_ = 16 + static_cast<int>(gen() % 13);
    const std::uint32_t size = 1u << (32 - prefix_);
    base_ = ((10u << 24) | static_cast<std::uint32_t>(gen() & 0xffffff)) & ~(size - 1);
    while (offsets_.size() < 4) {
      const std::uint32_t offset = 1 + static_cast<std::uint32_t>(gen() % (size - 2));
      if (std::find(offsets_.begin(), offsets_.end(), offset) == offsets_.end()) offsets_.push_back(offset);
    }
  }
  const std::string& bridge() const { return bridge_; }
  int prefix() const { return prefix_; }
  std::string gateway() const { return host(offsets_[0]); }
  std::string gateway_cidr() const { return gateway() + "/" + std::to_string(prefix_); }
  // The address of container I (0, 1, 2).
  std::string address(int i) const { return host(offsets_.at(1 + i)); }
  std::string cidr(const std::string& address) const { return address + "/" + std::to_string(prefix_); }
  std::string host_end() const { return "ve" + lab::random_token(8); }

 private:
  std::string host(std::uint32_t offset) const {
    const std::uint32_t ip = base_ + offset;
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 255) + "." +
           std::to_string((ip >> 8) & 255) + "." + std::to_string(ip & 255);
  }

  std::string bridge_ = "br" + lab::random_token(8);
  int prefix_ = 24;
  std::uint32_t base_ = 0;
  std::vector<std::uint32_t> offsets_;
};

lab::RunResult make_bridge(const Plan& plan) {
  return lab::run({kProgram, "bridge", plan.bridge(), plan.gateway_cidr()});
}

lab::RunResult connect(const Plan& plan, const Container& c) {
  return lab::run({kProgram, "connect", plan.bridge(), c.host_end(), std::to_string(c.pid()),
                   plan.cidr(c.address()), plan.gateway()});
}

void require_success(const lab::RunResult& r, const std::string& what) {
  INFO(r.describe());
  INFO(what << " must succeed (exit code 0)");
  REQUIRE(r.exit_code == 0);
}

// bridge-lab bridge, then bridge-lab connect for each container.
void build(const Plan& plan, std::initializer_list<const Container*> containers) {
  require_success(make_bridge(plan), "bridge-lab bridge " + plan.bridge() + " " + plan.gateway_cidr());
  for (const Container* c : containers)
    require_success(connect(plan, *c), "bridge-lab connect " + plan.bridge() + " " + c->host_end() + " " +
                                           std::to_string(c->pid()) + " " + plan.cidr(c->address()) + " " +
                                           plan.gateway());
}

}  // namespace

TEST_CASE("bridge: a bridge device of that name, up", "[points=10]") {
  HostNet host;
  Plan plan;
  require_success(make_bridge(plan), "bridge-lab bridge " + plan.bridge() + " " + plan.gateway_cidr());
  auto devices = devices_here();
  INFO("the host's devices after bridge-lab bridge " << plan.bridge() << " " << plan.gateway_cidr() << ":"
       << describe(devices));
  INFO("expected a device " << plan.bridge() << " of kind bridge, UP (ip -d link show " << plan.bridge() << ")");
  REQUIRE(devices.count(plan.bridge()) == 1);
  CHECK(devices[plan.bridge()].kind == "bridge");
  CHECK(devices[plan.bridge()].up);
}

TEST_CASE("bridge: the bridge holds the gateway address with its prefix", "[points=10]") {
  HostNet host;
  Plan plan;
  require_success(make_bridge(plan), "bridge-lab bridge " + plan.bridge() + " " + plan.gateway_cidr());
  auto devices = devices_here();
  INFO("the host's devices after bridge-lab bridge:" << describe(devices));
  REQUIRE(devices.count(plan.bridge()) == 1);
  INFO("the bridge's IPv4 addresses must be " << plan.gateway_cidr()
       << " alone: the prefix gives the host its route to the whole subnet");
  CHECK(devices[plan.bridge()].addresses == std::set<std::string>{plan.gateway_cidr()});
}

TEST_CASE("connect: the host's end is a port of the bridge, and up", "[points=10]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  auto devices = devices_here();
  INFO("the host's devices after bridge-lab connect:" << describe(devices));
  INFO("expected " << a.host_end() << ": a veth, UP, master " << plan.bridge());
  REQUIRE(devices.count(a.host_end()) == 1);
  const Device& end = devices[a.host_end()];
  CHECK(end.kind == "veth");
  CHECK(end.master == plan.bridge());
  CHECK(end.up);
}

TEST_CASE("connect: inside, eth0 holds the address and is up, beside lo alone", "[points=15]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  Devices inside;
  {
    InNamespace in(a.pid());
    inside = devices_here();
  }
  INFO("the devices inside the namespace of pid " << a.pid() << ":" << describe(inside));
  INFO("expected " << describe(a.devices()) << " as before, and eth0 (the veth's other end, renamed), UP with "
       << plan.cidr(a.address()) << " alone");
  REQUIRE(names_of(inside) == a.devices_and("eth0"));
  CHECK(inside["eth0"].kind == "veth");
  CHECK(inside["eth0"].up);
  CHECK(inside["eth0"].addresses == std::set<std::string>{plan.cidr(a.address())});
}

TEST_CASE("connect: lo is up inside", "[points=5]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  Devices inside;
  {
    InNamespace in(a.pid());
    inside = devices_here();
  }
  INFO("the devices inside the namespace of pid " << a.pid() << ":" << describe(inside));
  INFO("a new namespace's lo starts DOWN: after bridge-lab connect it must be UP");
  REQUIRE(inside.count("lo") == 1);
  CHECK(inside["lo"].up);
}

TEST_CASE("connect: the default route inside goes via the gateway, through eth0", "[points=10]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  std::vector<Route> routes;
  {
    InNamespace in(a.pid());
    routes = routes_here();
  }
  INFO("the routes inside the namespace of pid " << a.pid() << " (ip route):" << describe(routes));
  INFO("expected one default route: default via " << plan.gateway() << " dev eth0");
  int defaults = 0;
  bool right = false;
  for (const auto& r : routes)
    if (r.destination == "default") {
      ++defaults;
      right = r.gateway == plan.gateway() && r.device == "eth0";
    }
  CHECK(defaults == 1);
  CHECK(right);
}

TEST_CASE("two namespaces on the bridge reach each other over TCP", "[points=15]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  Container b(plan.host_end(), plan.address(1));
  build(plan, {&a, &b});
  std::string a_to_b, b_to_a;
  {
    InNamespace in(a.pid());
    a_to_b = fetch(b.address(), b.port());
  }
  {
    InNamespace in(b.pid());
    b_to_a = fetch(a.address(), a.port());
  }
  INFO("from the namespace of pid " << a.pid() << " (" << a.address() << "), " << b.address() << ":"
       << b.port() << " must answer " << b.token() << "; it gave: " << a_to_b);
  INFO("from the namespace of pid " << b.pid() << " (" << b.address() << "), " << a.address() << ":"
       << a.port() << " must answer " << a.token() << "; it gave: " << b_to_a);
  CHECK(a_to_b == b.token());
  CHECK(b_to_a == a.token());
}

TEST_CASE("the host reaches a namespace's address through the bridge", "[points=5]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  const std::string answer = fetch(a.address(), a.port());
  INFO("from the host, " << a.address() << ":" << a.port() << " must answer " << a.token()
       << "; it gave: " << answer << " (the host's routes:" << describe(routes_here()) << ")");
  CHECK(answer == a.token());
}

TEST_CASE("a namespace reaches the host's address outside its subnet (default route)", "[points=5]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  build(plan, {&a});
  // A listener on the host's eth0 address, which is not in the bridge's
  // subnet: only the default route leads there from inside.
  const int server = tcp_socket();
  auto at = ipv4(host.address(), 0);
  socklen_t len = sizeof at;
  if (::bind(server, reinterpret_cast<sockaddr*>(&at), sizeof at) != 0 || ::listen(server, 1) != 0 ||
      ::getsockname(server, reinterpret_cast<sockaddr*>(&at), &len) != 0) {
    ::close(server);
    fail("listen on " + host.address());
  }
  const unsigned port = ntohs(at.sin_port);
  const std::string token = lab::random_token(16);
  std::string error, answer;
  int client = -1;
  {
    InNamespace in(a.pid());  // the socket is the namespace's, for life
    client = tcp_socket();
    error = connect_to(client, host.address(), port);
  }
  if (error.empty()) {
    pollfd p{server, POLLIN, 0};
    if (::poll(&p, 1, 3000) == 1) {
      const int conn = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) {
        if (::write(conn, token.data(), token.size()) < 0) {}
        ::close(conn);
      }
    }
    answer = read_all(client);
  }
  ::close(client);
  ::close(server);
  INFO("from the namespace of pid " << a.pid() << ", the host's " << host.address() << ":" << port
       << " must answer " << token << "; it gave: " << (error.empty() ? answer : "(" + error + ")"));
  CHECK(answer == token);
}

TEST_CASE("the host's own devices are left as they were", "[points=10]") {
  HostNet host;
  Plan plan;
  Container a(plan.host_end(), plan.address(0));
  Container b(plan.host_end(), plan.address(1));
  // Whatever the connects end with: what matters is what they leave.
  const auto made = make_bridge(plan);
  const auto first = connect(plan, a);
  const auto second = connect(plan, b);
  const auto after = devices_here();
  INFO("the host's devices before:" << describe(host.devices()) << "; after bridge-lab bridge and two connects:"
       << describe(after));
  INFO(first.describe());
  INFO(second.describe());
  {
    INFO("the bridge " << plan.bridge() << " and the host's ends " << a.host_end() << " and " << b.host_end()
         << " must be there");
    REQUIRE(after.count(plan.bridge()) == 1);
    REQUIRE(after.count(a.host_end()) == 1);
    REQUIRE(after.count(b.host_end()) == 1);
  }
  for (const auto& [name, before] : host.devices()) {
    INFO("the host's own " << name << " must be as it was (state, master, addresses)");
    REQUIRE(after.count(name) == 1);
    CHECK(after.at(name) == before);
  }
  std::set<std::string> extra = names_of(after);
  for (const auto& name : names_of(host.devices())) extra.erase(name);
  for (const auto& name : {plan.bridge(), a.host_end(), b.host_end()}) extra.erase(name);
  INFO("no other device may be left in the host (the namespaces' ends belong inside them): found "
       << describe(extra));
  CHECK(extra.empty());
}

TEST_CASE("connect to a bridge that does not exist fails, naming it, and leaves no device", "[points=5]") {
  HostNet host;
  Plan plan;  // its bridge is never made
  Container a(plan.host_end(), plan.address(0));
  const auto r = connect(plan, a);
  INFO(r.describe());
  Devices inside;
  {
    InNamespace in(a.pid());
    inside = devices_here();
  }
  const auto after = devices_here();
  INFO("there is no bridge " << plan.bridge() << ": bridge-lab connect must exit with 125 and name it on stderr");
  CHECK(r.exit_code == 125);
  CHECK(r.err.find(plan.bridge()) != std::string::npos);
  INFO("and leave nothing behind: the host's devices must be " << describe(names_of(host.devices()))
       << ", they are " << describe(names_of(after)) << "; inside, " << describe(a.devices()) << " as before, there is "
       << describe(names_of(inside)));
  CHECK(names_of(after) == names_of(host.devices()));
  CHECK(names_of(inside) == a.devices());
}
