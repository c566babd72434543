// labs/08-bridge/fixed/bridge.hpp — the three functions you write in
// bridge.cpp, and the helpers given to you. Do not change this file: the
// grader compiles its own copy.
//
// A bridge is a switch inside the kernel. A veth pair is a cable: two
// devices, and what goes into one comes out of the other. With one bridge on
// the host and one cable per network namespace (one end a port of the
// bridge, the other end the namespace's eth0), the namespaces share one
// Ethernet segment, and the bridge's own address is their gateway: the
// network Docker calls `bridge` (docker0), without NAT.
//
//   bridge-lab bridge NAME GATEWAY/PREFIX
//       part 1: make_bridge()
//   bridge-lab connect BRIDGE HOST-END PID ADDRESS/PREFIX GATEWAY
//       part 2: plug_into_bridge()       in the host's namespace
//       (main joins the network namespace of PID)
//       part 3: set_up_inside()          in that namespace
//
// Everything goes through rtnetlink with libnl-3's route library, as
// `ip link`, `ip address` and `ip route` do; run no program. It needs
// CAP_NET_ADMIN in both namespaces: run it as root.
// Man pages: rtnetlink(7), veth(4), ip-link(8), ip-address(8), ip-route(8),
// network_namespaces(7). libnl: https://www.infradead.org/~tgr/libnl/doc/route.html
// (and the headers in /usr/include/libnl3/netlink/route/).
// Lesson: lessons/08-bridge. skiff's own version: ensure_bridge() and
// connect_namespace() in runtime/07-network/links.cpp — read them *after*
// the lab.
#pragma once

#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <sys/socket.h>

#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace lab {

// An IPv4 address with its prefix length: 10.88.0.1/16 is {"10.88.0.1", 16}.
struct Ipv4 {
  std::string address;  // dotted quad, without the prefix
  int prefix = 32;      // 0 to 32
  std::string cidr() const { return address + "/" + std::to_string(prefix); }
};

// Part 1 (bridge-lab bridge). In the caller's network namespace: a new
// bridge device NAME, holding GATEWAY (its address and prefix length, so
// that the host has a route to the whole subnet through the bridge), UP.
// A NAME that already exists is an error.
void make_bridge(const std::string& name, const Ipv4& gateway);

// Part 2 (bridge-lab connect, in the host's namespace). A veth pair:
//   HOST_END  stays in the caller's namespace, a port of the bridge BRIDGE
//             (its master), UP;
//   PEER      the other end, in the network namespace NETNS_FD (a descriptor
//             of /proc/PID/ns/net), under the name PEER.
// If BRIDGE is not a bridge of the caller's namespace, throw an error that
// names it, and leave no new device behind. PEER is a name main() picked so
// that it is free in the host; do not name it eth0 here: the host has an eth0
// of its own.
void plug_into_bridge(const std::string& bridge, const std::string& host_end,
                      const std::string& peer, int netns_fd);

// Part 3 (bridge-lab connect, after part 2). main() has joined the
// namespace of PID: the calling process is in it now. There:
//   PEER renamed eth0 (rename a device while it is down), holding ADDRESS
//   (with its prefix), UP; lo UP; and a default route via GATEWAY, through
//   eth0. A netlink socket talks to the namespace it was created in.
void set_up_inside(const std::string& peer, const Ipv4& address, const std::string& gateway);

// ---- given ------------------------------------------------------------------------

// Throws std::system_error(errno, WHAT) when RC is -1 (a failed system
// call). main() prints any error as "bridge-lab: WHAT: reason" and exits 125.
inline void check(long rc, const std::string& what) {
  if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
}

// Throws std::runtime_error("WHAT: libnl's text") when ERR is negative, the
// failure return of libnl's functions (-NLE_EXIST, -NLE_OBJ_NOTFOUND, …):
// check_nl(rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL), "create bridge " + name);
inline void check_nl(int err, const std::string& what) {
  if (err < 0) throw std::runtime_error(what + ": " + nl_geterror(err));
}

// libnl objects are reference counted: each one you allocate or get
// (…_alloc(), rtnl_link_get_kernel(), rtnl_link_veth_get_peer()) must be
// put back once. Owned<T, put> does it when it goes out of scope:
//   Link bridge(rtnl_link_bridge_alloc());  … bridge.get() …
template <typename T, void (*Put)(T*)>
struct Putter {
  void operator()(T* object) const {
    if (object != nullptr) Put(object);
  }
};
template <typename T, void (*Put)(T*)>
using Owned = std::unique_ptr<T, Putter<T, Put>>;
using Link = Owned<rtnl_link, rtnl_link_put>;     // a device (ip link)
using Addr = Owned<rtnl_addr, rtnl_addr_put>;     // an address of a device (ip address)
using Route = Owned<rtnl_route, rtnl_route_put>;  // a route (ip route)
using Address = Owned<nl_addr, nl_addr_put>;      // an address as libnl holds it

// An rtnetlink socket, connected, closed at the end. It talks to the network
// namespace the calling process was in when it was made, for life.
class Netlink {
 public:
  Netlink() : sock_(nl_socket_alloc()) {
    if (sock_ == nullptr) throw std::runtime_error("nl_socket_alloc: out of memory");
    const int err = nl_connect(sock_, NETLINK_ROUTE);
    if (err < 0) {
      nl_socket_free(sock_);
      check_nl(err, "nl_connect(NETLINK_ROUTE)");
    }
  }
  ~Netlink() { nl_socket_free(sock_); }
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  nl_sock* get() const { return sock_; }

 private:
  nl_sock* sock_;
};

// "10.88.0.1/16" (or "10.88.0.1", prefix 32; "0.0.0.0/0", the default
// destination) as libnl's nl_addr. Beware: rtnl_addr_set_local() also sets
// the address's prefix length, from this nl_addr's.
inline Address parse_ipv4(const std::string& text) {
  nl_addr* address = nullptr;
  check_nl(nl_addr_parse(text.c_str(), AF_INET, &address), "parse " + text);
  return Address(address);
}

}  // namespace lab
