// 07-network/links.hpp — network devices, addresses and routes, through
// rtnetlink (libnl-3's route library), as `ip link`/`ip addr`/`ip route` do.
//
// Kernel concept: a bridge is a virtual switch inside the kernel: the
//   devices attached to it ("ports") exchange frames as the ports of a real
//   switch do, and the bridge device itself is the host's own port, holding
//   the gateway address. A veth pair is a cable with two ends: what goes in
//   one comes out of the other, and each end can live in a different
//   network namespace. A container's end is its eth0; the host's end is a
//   port of the bridge.
// Man pages: rtnetlink(7), ip-link(8), ip-address(8), ip-route(8), veth(4).
// Runs in: the CLI (the bridge), the launcher (the veth pair, and, from a
//   thread that joins the container's network namespace, its eth0).
// Privilege: CAP_NET_ADMIN in the namespaces touched.
// Lesson: lessons/08-bridge (lab: labs/08-bridge).
#pragma once

#include <string>

#include "07-network/ipam.hpp"

namespace skiff::network {

// Makes the bridge DEVICE (if missing) in the caller's network namespace,
// gives it SUBNET's gateway address (if missing), and brings it up. Returns
// whether it made the device. Throws core::Error if DEVICE exists and is
// not a bridge, or holds another subnet's address.
bool ensure_bridge(const std::string& device, const Subnet& subnet);

// What one container's end of a veth pair gets.
struct Interface {
  std::string host_device;  // the host's end, a port of BRIDGE
  std::string bridge;
  Ipv4 address = 0;
  int prefix = 0;
  Ipv4 gateway = 0;
  std::string mac;          // "02:42:ac:11:00:02"
};

// Docker's MAC for an address: 02:42 (locally administered) then the four
// bytes of IP, so an address always comes with the same MAC. Pure.
std::string mac_for(Ipv4 ip);

// A veth pair: the host's end named IF.host_device, a port of IF.bridge,
// up; the other end made straight inside the network namespace NETNS_FD
// as "eth0" with IF.mac. Then, in that namespace: its address, up, and a
// default route via the gateway. On failure nothing is left (the host's
// end is deleted; deleting one end deletes both).
void connect_namespace(int netns_fd, const Interface& iface);

// Deletes the device NAME of the caller's namespace; a missing one is fine.
void delete_link(const std::string& name);

// Whether the caller's namespace has a device NAME.
bool link_exists(const std::string& name);

}  // namespace skiff::network
