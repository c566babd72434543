// labs/08-bridge/starter/bridge.cpp — your part of bridge-lab.
//
// fixed/main.cpp calls make_bridge() for `bridge-lab bridge`; for
// `bridge-lab connect` it calls plug_into_bridge() in the host's namespace,
// joins the namespace of PID, and calls set_up_inside() there. Read
// bridge.hpp first: it says what each part must achieve and gives you
// check_nl(), Netlink, Link/Addr/Route/Address and parse_ipv4().
// Build and grade:   make grade LAB=08 SRC=path/to/your/folder
#include "bridge.hpp"

#include <net/if.h>

#include <cstring>

namespace lab {

void make_bridge(const std::string& name, const Ipv4& gateway) {
  // TODO(part 1): with one Netlink socket, each libnl call in check_nl():
  //   a bridge device named NAME: rtnl_link_bridge_alloc(), its name, and
  //     rtnl_link_add() with NLM_F_CREATE | NLM_F_EXCL;
  //   its index, from the kernel (rtnl_link_get_kernel());
  //   GATEWAY on it, prefix included: an rtnl_addr with that index and a
  //     local address (rtnl_addr_set_local), rtnl_addr_add();
  //   UP: rtnl_link_change() with a change that has IFF_UP in its flags.
  (void)name;
  (void)gateway;
}

void plug_into_bridge(const std::string& bridge, const std::string& host_end,
                      const std::string& peer, int netns_fd) {
  // TODO(part 2): first make sure BRIDGE exists and is a bridge
  // (rtnl_link_get_type()), before anything is made. Then a veth pair
  // (rtnl_link_veth_alloc()): this end named HOST_END, its master the
  // bridge's index, IFF_UP; the other end (rtnl_link_veth_get_peer(), to be
  // put back) named PEER. Then move PEER into NETNS_FD
  // (rtnl_link_set_ns_fd() on a change). If a step fails after the pair
  // exists, delete it (rtnl_link_delete()): one end takes the other along.
  (void)bridge;
  (void)host_end;
  (void)peer;
  (void)netns_fd;
}

void set_up_inside(const std::string& peer, const Ipv4& address, const std::string& gateway) {
  // TODO(part 3): you are inside the namespace now; a Netlink socket made
  // here talks to it. PEER is DOWN, as any device that just moved:
  //   rename it eth0 (a change with the new name), while it is down;
  //   ADDRESS on it, with its prefix;
  //   eth0 UP, and lo UP;
  //   a default route: an rtnl_route of family AF_INET, destination
  //     0.0.0.0/0, one next hop (rtnl_route_nh_alloc()) with GATEWAY and
  //     eth0's index, rtnl_route_add().
  (void)peer;
  (void)address;
  (void)gateway;
}

}  // namespace lab
