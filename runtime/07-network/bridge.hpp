// 07-network/bridge.hpp — the default bridge network, "bridge": what a
// container gets without --network, in Docker.
//
// Kernel concept: see links.hpp (bridge, veth), nat.hpp (forwarding,
//   masquerade), ipam.hpp (subnets, addresses). Put together: skiff0, a
//   bridge of skiff's own (not docker0, so Docker and skiff share a host),
//   holds 172.17.0.1/16; each container's eth0 is one end of a veth pair
//   whose other end is a port of skiff0; its default route goes to
//   172.17.0.1, the host, which forwards and masquerades what leaves.
// Runs in: the CLI (prepare, at each start), the launcher (plug in the
//   container's namespace), every teardown (release).
// Lesson: lessons/08-bridge.
//
// On disk, ROOT/networks/:
//   lock                  held while a network's record is made
//   bridge/network.json   Name, Id, Created, Driver, Subnet, Gateway, Device:
//                         chosen once, the first time a container uses it
//   bridge/addresses/IP   see ipam.hpp
#pragma once

#include <filesystem>
#include <string>

#include "07-network/ipam.hpp"
#include "07-network/links.hpp"

namespace skiff::network {

inline constexpr const char* kDefaultBridgeDevice = "skiff0";

struct BridgeNetwork {
  std::string name;     // "bridge"
  std::string id;       // 64 hex digits
  std::string created;  // RFC 3339
  std::string device;   // "skiff0"
  Subnet subnet;
};

// What a container on a bridge network has while it runs (ContainerState
// keeps it: inspect's NetworkSettings).
struct Endpoint {
  std::string network;     // "bridge"
  std::string network_id;
  Interface iface;
  bool empty() const { return iface.address == 0; }
};

// The default bridge's record under NETWORKS_DIR, made the first time: its
// subnet the first of Docker's pools that the host does not reach already.
BridgeNetwork default_bridge(const std::filesystem::path& networks_dir);

// At each start, from the CLI: the bridge device, its NAT and IPv4
// forwarding made ready on the host (forwarding's switch said on stderr,
// the one time it is turned on), and an address for CONTAINER. Nothing is
// left half-made when it throws.
Endpoint prepare_endpoint(const std::filesystem::path& networks_dir, const std::string& container);

// In the launcher, once the container's process exists: its eth0, plugged
// into the bridge (links.hpp, connect_namespace).
void plug(const Endpoint& endpoint, int netns_fd);

// At each teardown (safe twice, and on a half-made start): the host's end
// of the pair deleted if it outlived the namespace, the address freed.
void release_endpoint(const std::filesystem::path& networks_dir, const std::string& container);

// The host's end of CONTAINER's veth pair: "veth" and 11 digits of its id
// (15 characters, the kernel's limit), so teardown finds it by name.
std::string host_device_for(const std::string& container);

// The container's /etc/hosts at a start on a bridge: HOSTS without the line
// an earlier start added (one ending in TAB HOSTNAME), then "IP\tHOSTNAME",
// as Docker writes it. Pure.
std::string hosts_with_address(const std::string& hosts, const std::string& hostname, Ipv4 ip);

// The container's /etc/resolv.conf on a bridge: the host's, unless every
// nameserver in it is a loopback address (a local cache such as
// systemd-resolved's 127.0.0.53, unreachable from the container's own
// namespace); then Docker's fallback, Google's 8.8.8.8 and 8.8.4.4. Pure.
std::string resolv_conf_for_bridge(const std::string& host_resolv_conf);

}  // namespace skiff::network
