// labs/08-bridge/solution/bridge.cpp — the reference solution.
#include "bridge.hpp"

#include <net/if.h>

#include <cstring>

namespace lab {

namespace {

// The device NAME of the namespace NL talks to; an error naming it if there
// is none.
Link find_link(Netlink& nl, const std::string& name) {
  rtnl_link* link = nullptr;
  check_nl(rtnl_link_get_kernel(nl.get(), 0, name.c_str(), &link), "find device " + name);
  return Link(link);
}

// IFF_UP on LINK (NAME, for messages); its other flags are left alone: only
// the flags set in the change are written (ifi_change).
void bring_up(Netlink& nl, rtnl_link* link, const std::string& name) {
  Link change(rtnl_link_alloc());
  rtnl_link_set_flags(change.get(), IFF_UP);
  check_nl(rtnl_link_change(nl.get(), link, change.get(), 0), "bring " + name + " up");
}

// CIDR ("10.88.0.1/16") on the device INDEX (NAME, for messages). The
// prefix comes with the nl_addr: rtnl_addr_set_local() copies it.
void add_address(Netlink& nl, int index, const std::string& cidr, const std::string& name) {
  Addr addr(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(addr.get(), index);
  const Address local = parse_ipv4(cidr);
  check_nl(rtnl_addr_set_local(addr.get(), local.get()), "address " + cidr);
  check_nl(rtnl_addr_add(nl.get(), addr.get(), 0), "add " + cidr + " to " + name);
}

// Deletes the device NAME at the end of the scope unless kept: a half-made
// veth pair is not left in the host (deleting one end deletes both).
struct DeleteUnlessKept {
  Netlink& nl;
  std::string name;
  bool keep = false;
  ~DeleteUnlessKept() {
    if (keep) return;
    Link gone(rtnl_link_alloc());
    rtnl_link_set_name(gone.get(), name.c_str());
    rtnl_link_delete(nl.get(), gone.get());
  }
};

}  // namespace

void make_bridge(const std::string& name, const Ipv4& gateway) {
  Netlink nl;
  Link bridge(rtnl_link_bridge_alloc());
  rtnl_link_set_name(bridge.get(), name.c_str());
  // NLM_F_EXCL: an existing device of that name is an error, not reused.
  check_nl(rtnl_link_add(nl.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL), "create bridge " + name);
  // The kernel chose its index: ask for the device as it is now.
  const Link made = find_link(nl, name);
  // The gateway with its prefix: the host gets a route to the whole subnet
  // through the bridge (a /32 would reach no one).
  add_address(nl, rtnl_link_get_ifindex(made.get()), gateway.cidr(), name);
  // A bridge that is down forwards nothing, between its ports either.
  bring_up(nl, made.get(), name);
}

void plug_into_bridge(const std::string& bridge, const std::string& host_end,
                      const std::string& peer, int netns_fd) {
  Netlink nl;
  // First the bridge: when it is missing, nothing has been made yet.
  const Link master = find_link(nl, bridge);
  const char* kind = rtnl_link_get_type(master.get());
  if (kind == nullptr || std::strcmp(kind, "bridge") != 0)
    throw std::runtime_error(bridge + " is not a bridge");

  Link veth(rtnl_link_veth_alloc());
  rtnl_link_set_name(veth.get(), host_end.c_str());
  rtnl_link_set_master(veth.get(), rtnl_link_get_ifindex(master.get()));
  rtnl_link_set_flags(veth.get(), IFF_UP);
  {
    const Link other(rtnl_link_veth_get_peer(veth.get()));
    rtnl_link_set_name(other.get(), peer.c_str());
  }
  check_nl(rtnl_link_add(nl.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL),
           "create veth pair " + host_end + " / " + peer);
  DeleteUnlessKept undo{nl, host_end};

  // The cable's other end goes to the container. A device that moves is
  // brought down and loses its addresses: it is configured there (part 3).
  const Link other = find_link(nl, peer);
  Link move(rtnl_link_alloc());
  rtnl_link_set_ns_fd(move.get(), netns_fd);
  check_nl(rtnl_link_change(nl.get(), other.get(), move.get(), 0),
           "move " + peer + " into the network namespace");
  undo.keep = true;
}

void set_up_inside(const std::string& peer, const Ipv4& address, const std::string& gateway) {
  // Made now, after main() joined the namespace: this socket talks to it.
  Netlink nl;
  const Link moved = find_link(nl, peer);
  Link rename(rtnl_link_alloc());
  rtnl_link_set_name(rename.get(), "eth0");
  check_nl(rtnl_link_change(nl.get(), moved.get(), rename.get(), 0), "rename " + peer + " to eth0");
  const int eth0 = rtnl_link_get_ifindex(moved.get());  // renaming keeps the index

  add_address(nl, eth0, address.cidr(), "eth0");
  bring_up(nl, find_link(nl, "eth0").get(), "eth0");
  bring_up(nl, find_link(nl, "lo").get(), "lo");

  // default via GATEWAY dev eth0. The kernel accepts it only once the
  // gateway is on a connected subnet: eth0 up, with its prefix.
  Route route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), AF_INET);
  const Address any = parse_ipv4("0.0.0.0/0");
  check_nl(rtnl_route_set_dst(route.get(), any.get()), "route to 0.0.0.0/0");
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  const Address via = parse_ipv4(gateway);
  rtnl_route_nh_set_gateway(hop, via.get());
  rtnl_route_nh_set_ifindex(hop, eth0);
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns it now
  check_nl(rtnl_route_add(nl.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL),
           "add default route via " + gateway);
}

}  // namespace lab
