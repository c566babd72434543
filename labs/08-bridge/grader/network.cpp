// labs/08-bridge/grader/network.cpp — see network.hpp.
#include "network.hpp"

#include <arpa/inet.h>
#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <sys/time.h>

namespace net {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("grader: " + what + ": " + std::strerror(errno));
}

std::string random_number_text(unsigned low, unsigned high) {
  return std::to_string(low + lab::generator()() % (high - low + 1));
}

// ---- what `ip link`, `ip address` and `ip route` show, read with libnl ------------
// Always of the namespace the grader is in when it calls them.

namespace {

void check_nl(int err, const std::string& what) {
  if (err < 0) throw std::runtime_error("grader: " + what + ": " + nl_geterror(err));
}

// An rtnetlink socket of the current namespace, closed at the end.
class Rtnl {
 public:
  Rtnl() : sock_(nl_socket_alloc()) {
    if (sock_ == nullptr) throw std::runtime_error("grader: nl_socket_alloc");
    const int err = nl_connect(sock_, NETLINK_ROUTE);
    if (err < 0) {
      nl_socket_free(sock_);
      check_nl(err, "nl_connect(NETLINK_ROUTE)");
    }
  }
  ~Rtnl() { nl_socket_free(sock_); }
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;
  nl_sock* get() const { return sock_; }

 private:
  nl_sock* sock_;
};

struct Cache {
  nl_cache* cache = nullptr;
  ~Cache() {
    if (cache != nullptr) nl_cache_free(cache);
  }
};

std::string ipv4_text(nl_addr* address) {
  char text[INET_ADDRSTRLEN] = "?";
  if (address != nullptr && nl_addr_get_family(address) == AF_INET && nl_addr_get_len(address) == 4)
    ::inet_ntop(AF_INET, nl_addr_get_binary_addr(address), text, sizeof text);
  return text;
}

}  // namespace

Devices devices_here() {
  Rtnl nl;
  Cache links, addrs;
  check_nl(rtnl_link_alloc_cache(nl.get(), AF_UNSPEC, &links.cache), "list the devices");
  check_nl(rtnl_addr_alloc_cache(nl.get(), &addrs.cache), "list the addresses");
  Devices devices;
  std::map<int, std::string> names;
  for (nl_object* o = nl_cache_get_first(links.cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    names[rtnl_link_get_ifindex(link)] = rtnl_link_get_name(link);
  }
  for (nl_object* o = nl_cache_get_first(links.cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* link = reinterpret_cast<rtnl_link*>(o);
    Device d;
    d.index = rtnl_link_get_ifindex(link);
    const char* kind = rtnl_link_get_type(link);
    d.kind = kind ? kind : "";
    d.up = (rtnl_link_get_flags(link) & IFF_UP) != 0;
    const int master = rtnl_link_get_master(link);
    if (master != 0) d.master = names.count(master) ? names[master] : "#" + std::to_string(master);
    devices[rtnl_link_get_name(link)] = d;
  }
  for (nl_object* o = nl_cache_get_first(addrs.cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_family(addr) != AF_INET) continue;
    const auto name = names.find(rtnl_addr_get_ifindex(addr));
    if (name == names.end()) continue;
    devices[name->second].addresses.insert(ipv4_text(rtnl_addr_get_local(addr)) + "/" +
                                           std::to_string(rtnl_addr_get_prefixlen(addr)));
  }
  return devices;
}

std::string describe(const Devices& devices) {
  std::string s;
  for (const auto& [name, d] : devices) {
    s += (s.empty() ? " " : "; ") + name + ":";
    if (!d.kind.empty()) s += " " + d.kind;
    s += d.up ? " UP" : " DOWN";
    if (!d.master.empty()) s += " master " + d.master;
    for (const auto& a : d.addresses) s += " " + a;
  }
  return s;
}

std::set<std::string> names_of(const Devices& devices) {
  std::set<std::string> names;
  for (const auto& [name, d] : devices) names.insert(name);
  return names;
}

std::string describe(const std::set<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
  return s.empty() ? "(none)" : s;
}

// The IPv4 routes of the main table (`ip route`).
std::vector<Route> routes_here() {
  Rtnl nl;
  Cache links, routes;
  check_nl(rtnl_link_alloc_cache(nl.get(), AF_UNSPEC, &links.cache), "list the devices");
  check_nl(rtnl_route_alloc_cache(nl.get(), AF_INET, 0, &routes.cache), "list the routes");
  std::vector<Route> out;
  for (nl_object* o = nl_cache_get_first(routes.cache); o != nullptr; o = nl_cache_get_next(o)) {
    auto* route = reinterpret_cast<rtnl_route*>(o);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN) continue;
    Route r;
    nl_addr* dst = rtnl_route_get_dst(route);
    r.destination = dst == nullptr || nl_addr_get_prefixlen(dst) == 0
                        ? "default"
                        : ipv4_text(dst) + "/" + std::to_string(nl_addr_get_prefixlen(dst));
    if (rtnl_route_get_nnexthops(route) > 0) {
      rtnl_nexthop* hop = rtnl_route_nexthop_n(route, 0);
      if (nl_addr* gw = rtnl_route_nh_get_gateway(hop)) r.gateway = ipv4_text(gw);
      char name[IFNAMSIZ] = "";
      rtnl_link_i2name(links.cache, rtnl_route_nh_get_ifindex(hop), name, sizeof name);
      r.device = name;
    }
    out.push_back(r);
  }
  return out;
}

std::string describe(const std::vector<Route>& routes) {
  std::string s;
  for (const auto& r : routes) {
    s += (s.empty() ? " " : "; ") + r.destination;
    if (!r.gateway.empty()) s += " via " + r.gateway;
    s += " dev " + r.device;
  }
  return s.empty() ? " (none)" : s;
}

// IFF_UP on the device NAME, and CIDR on it if not empty: the grader's own
// setting up of its host namespace (never of the machine's).
void set_up(const std::string& name, const std::string& cidr) {
  Rtnl nl;
  rtnl_link* link = nullptr;
  check_nl(rtnl_link_get_kernel(nl.get(), 0, name.c_str(), &link), "find " + name);
  rtnl_link* change = rtnl_link_alloc();
  rtnl_link_set_flags(change, IFF_UP);
  const int err = rtnl_link_change(nl.get(), link, change, 0);
  rtnl_link_put(change);
  const int index = rtnl_link_get_ifindex(link);
  rtnl_link_put(link);
  check_nl(err, "bring " + name + " up");
  if (cidr.empty()) return;
  nl_addr* local = nullptr;
  check_nl(nl_addr_parse(cidr.c_str(), AF_INET, &local), "parse " + cidr);
  rtnl_addr* addr = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(addr, index);
  rtnl_addr_set_local(addr, local);
  const int added = rtnl_addr_add(nl.get(), addr, 0);
  rtnl_addr_put(addr);
  nl_addr_put(local);
  check_nl(added, "add " + cidr + " to " + name);
}

int tcp_socket() {
  const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) fail("socket");
  struct timeval tv = {.tv_sec = 3, .tv_usec = 0};  // connect and read give up after 3 s
  ::setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return s;
}

sockaddr_in ipv4(const std::string& address, unsigned port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<unsigned short>(port));
  if (::inet_pton(AF_INET, address.c_str(), &a.sin_addr) != 1)
    throw std::runtime_error("grader: bad address " + address);
  return a;
}

// Connects S to ADDRESS:PORT; "" or what went wrong.
std::string connect_to(int s, const std::string& address, unsigned port) {
  const auto a = ipv4(address, port);
  if (::connect(s, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0) return "";
  return "connect to " + address + ":" + std::to_string(port) + ": " +
         (errno == EINPROGRESS || errno == EAGAIN ? std::string("no answer within 3 s") : std::strerror(errno));
}

// What S receives until the other side closes (or 3 s pass).
std::string read_all(int s) {
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(s, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  return text;
}

// From the grader's current namespace: what the listener at ADDRESS:PORT
// answers, or "(…what went wrong)".
std::string fetch(const std::string& address, unsigned port) {
  const int s = tcp_socket();
  const std::string error = connect_to(s, address, port);
  const std::string text = error.empty() ? read_all(s) : "(" + error + ")";
  ::close(s);
  return text;
}

}  // namespace net
