// 07-network/links.cpp — see links.hpp.
#include "07-network/links.hpp"

#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>

#include <cstdio>
#include <exception>
#include <memory>
#include <thread>

#include "core/error.hpp"
#include "core/trace.hpp"

namespace skiff::network {
namespace {

struct SockFree { void operator()(nl_sock* s) const { nl_socket_free(s); } };
struct LinkPut { void operator()(rtnl_link* l) const { rtnl_link_put(l); } };
struct AddrPut { void operator()(rtnl_addr* a) const { rtnl_addr_put(a); } };
struct NlAddrPut { void operator()(nl_addr* a) const { nl_addr_put(a); } };
struct RoutePut { void operator()(rtnl_route* r) const { rtnl_route_put(r); } };
using Sock = std::unique_ptr<nl_sock, SockFree>;
using Link = std::unique_ptr<rtnl_link, LinkPut>;
using Addr = std::unique_ptr<rtnl_addr, AddrPut>;
using NlAddr = std::unique_ptr<nl_addr, NlAddrPut>;
using Route = std::unique_ptr<rtnl_route, RoutePut>;

// libnl returns negative NLE_* codes, not errno.
void check(int err, const std::string& what) {
  if (err < 0) throw core::Error(what + ": " + nl_geterror(err));
}

// A route netlink socket in the calling thread's network namespace.
Sock connect_route() {
  Sock s(nl_socket_alloc());
  if (!s) throw core::Error("nl_socket_alloc: out of memory");
  check(nl_connect(s.get(), NETLINK_ROUTE), "connect to rtnetlink");
  return s;
}

Link find_link(nl_sock* s, const std::string& name) {
  rtnl_link* l = nullptr;
  int err = rtnl_link_get_kernel(s, 0, name.c_str(), &l);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return nullptr;
  check(err, "look up device " + name);
  return Link(l);
}

NlAddr parse_addr(const std::string& text) {
  nl_addr* a = nullptr;
  check(nl_addr_parse(text.c_str(), AF_INET, &a), "address " + text);
  return NlAddr(a);
}

void bring_up(nl_sock* s, rtnl_link* link, const std::string& name) {
  if (rtnl_link_get_flags(link) & IFF_UP) return;
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  core::trace::call("RTM_NEWLINK " + name + " up");
  check(rtnl_link_change(s, link, change.get(), 0), "bring " + name + " up");
}

// ADDRESS/PREFIX on device IFINDEX; there already is fine.
void add_address(nl_sock* s, int ifindex, const std::string& name, Ipv4 address, int prefix) {
  auto text = to_string_ipv4(address) + "/" + std::to_string(prefix);
  Addr a(rtnl_addr_alloc());
  auto local = parse_addr(text);
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_local(a.get(), local.get());
  // The broadcast address, as `ip addr add … brd +` sets it.
  auto brd = parse_addr(to_string_ipv4(address | (prefix == 0 ? ~Ipv4{0} : ~(~Ipv4{0} << (32 - prefix)))));
  rtnl_addr_set_broadcast(a.get(), brd.get());
  core::trace::call("RTM_NEWADDR " + text + " dev " + name);
  int err = rtnl_addr_add(s, a.get(), 0);
  if (err == -NLE_EXIST) return;
  check(err, "add address " + text + " to " + name);
}

// The IPv4 addresses of device IFINDEX, as "a.b.c.d/p".
std::vector<std::string> addresses_of(nl_sock* s, int ifindex) {
  nl_cache* cache = nullptr;
  check(rtnl_addr_alloc_cache(s, &cache), "list addresses");
  std::vector<std::string> out;
  for (nl_object* o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != AF_INET) continue;
    char buf[64];
    out.push_back(nl_addr2str(rtnl_addr_get_local(a), buf, sizeof buf));
  }
  nl_cache_free(cache);
  return out;
}

// Inside the container's namespace: eth0's address, eth0 up, the default
// route via the gateway.
void configure_inside(const Interface& iface) {
  auto s = connect_route();
  auto eth0 = find_link(s.get(), "eth0");
  if (!eth0) throw core::Error("the container's eth0 did not arrive in its namespace");
  int index = rtnl_link_get_ifindex(eth0.get());
  add_address(s.get(), index, "eth0", iface.address, iface.prefix);
  bring_up(s.get(), eth0.get(), "eth0");
  Route r(rtnl_route_alloc());
  rtnl_route_set_family(r.get(), AF_INET);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_scope(r.get(), RT_SCOPE_UNIVERSE);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  auto any = parse_addr("0.0.0.0/0");
  check(rtnl_route_set_dst(r.get(), any.get()), "route destination");
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  auto via = parse_addr(to_string_ipv4(iface.gateway));
  rtnl_route_nh_set_gateway(hop, via.get());
  rtnl_route_nh_set_ifindex(hop, index);
  rtnl_route_add_nexthop(r.get(), hop);  // the route owns it from here
  core::trace::call("RTM_NEWROUTE default via " + to_string_ipv4(iface.gateway) + " dev eth0");
  check(rtnl_route_add(s.get(), r.get(), NLM_F_CREATE | NLM_F_EXCL), "add the default route");
}

}  // namespace

std::string mac_for(Ipv4 ip) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "02:42:%02x:%02x:%02x:%02x", ip >> 24, (ip >> 16) & 0xff,
                (ip >> 8) & 0xff, ip & 0xff);
  return buf;
}

bool ensure_bridge(const std::string& device, const Subnet& subnet) {
  auto s = connect_route();
  auto link = find_link(s.get(), device);
  bool made = false;
  if (!link) {
    Link bridge(rtnl_link_bridge_alloc());
    rtnl_link_set_name(bridge.get(), device.c_str());
    core::trace::call("RTM_NEWLINK " + device + " type bridge");
    int err = rtnl_link_add(s.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL);
    if (err != -NLE_EXIST) check(err, "create bridge " + device);  // another skiff was first: fine
    made = err != -NLE_EXIST;
    link = find_link(s.get(), device);
    if (!link) throw core::Error("bridge " + device + " vanished as it was made");
  } else if (!rtnl_link_is_bridge(link.get())) {
    throw core::Error("device " + device + " exists and is not a bridge");
  }
  int index = rtnl_link_get_ifindex(link.get());
  auto want = to_string_ipv4(subnet.gateway()) + "/" + std::to_string(subnet.prefix);
  auto have = addresses_of(s.get(), index);
  for (const auto& a : have)
    if (a != want) throw core::Error("bridge " + device + " has the address " + a + ", not " + want);
  if (have.empty()) add_address(s.get(), index, device, subnet.gateway(), subnet.prefix);
  bring_up(s.get(), link.get(), device);
  return made;
}

void connect_namespace(int netns_fd, const Interface& iface) {
  auto s = connect_route();
  auto bridge = find_link(s.get(), iface.bridge);
  if (!bridge) throw core::Error("bridge " + iface.bridge + " is gone");
  // Docker makes the pair in the host's namespace under two temporary
  // names and moves one end, renamed eth0, into the container's. One
  // message does it here: a veth's peer may be created straight in another
  // namespace, and its name is only checked there, where nothing else is
  // called eth0.
  Link veth(rtnl_link_veth_alloc());
  rtnl_link_set_name(veth.get(), iface.host_device.c_str());
  rtnl_link_set_master(veth.get(), rtnl_link_get_ifindex(bridge.get()));
  rtnl_link_set_flags(veth.get(), IFF_UP);
  Link peer(rtnl_link_veth_get_peer(veth.get()));
  rtnl_link_set_name(peer.get(), "eth0");
  rtnl_link_set_ns_fd(peer.get(), netns_fd);
  auto mac = [&] {
    nl_addr* a = nullptr;
    check(nl_addr_parse(iface.mac.c_str(), AF_LLC, &a), "MAC address " + iface.mac);
    return NlAddr(a);
  }();
  rtnl_link_set_addr(peer.get(), mac.get());
  core::trace::call("RTM_NEWLINK " + iface.host_device + " type veth master " + iface.bridge +
                    " peer eth0 netns <container> address " + iface.mac);
  check(rtnl_link_add(s.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL),
        "create veth pair " + iface.host_device + " / eth0");
  // The rest happens inside: a thread of ours joins the namespace (a
  // network namespace is per thread), talks to its rtnetlink, and ends.
  std::exception_ptr failed;
  std::thread inside([&] {
    try {
      if (::setns(netns_fd, CLONE_NEWNET) < 0)
        throw core::SystemError(errno, "setns(the container's network namespace)");
      configure_inside(iface);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  inside.join();
  if (failed) {
    try {
      delete_link(iface.host_device);
    } catch (...) {  // the first error is the one to report
    }
    std::rethrow_exception(failed);
  }
}

void delete_link(const std::string& name) {
  auto s = connect_route();
  auto link = find_link(s.get(), name);
  if (!link) return;
  core::trace::call("RTM_DELLINK " + name);
  int err = rtnl_link_delete(s.get(), link.get());
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return;
  check(err, "delete device " + name);
}

bool link_exists(const std::string& name) {
  auto s = connect_route();
  return find_link(s.get(), name) != nullptr;
}

}  // namespace skiff::network
