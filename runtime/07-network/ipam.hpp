// 07-network/ipam.hpp — IPv4 subnets and the addresses handed out in them.
//
// Kernel concept: none; this is bookkeeping. A bridge network is one IPv4
//   subnet: the bridge device holds its gateway address (the first one,
//   .1), and each container gets one of the others for as long as it runs.
//   Two rules decide the default bridge's subnet, both Docker's: take the
//   first of its pools (172.17.0.0/16, 172.18.0.0/16, …, then 192.168.x/20)
//   that overlaps nothing the host already reaches on a link (a route
//   without a gateway) and no nameserver of the host — else the host would
//   lose the way to its own LAN or its DNS the moment the bridge came up.
// Man pages: ip-address(8), ip-route(8), resolv.conf(5).
// Runs in: the launcher (allocate at start), every teardown (release).
// Lesson: lessons/08-bridge.
//
// On disk, under a directory per network (ROOT/networks/NAME/):
//   lock             flock(2) held while addresses are taken or freed
//   addresses/IP     one file per address in use, holding the container's id;
//                    made with O_EXCL, so two starts never get one address
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace skiff::network {

// An IPv4 address, host byte order.
using Ipv4 = uint32_t;

Ipv4 parse_ipv4(const std::string& text);  // throws core::Error on anything but a.b.c.d
std::string to_string_ipv4(Ipv4 ip);

struct Subnet {
  Ipv4 base = 0;   // the network address: host bits zero
  int prefix = 0;  // 0..32

  Ipv4 mask() const { return prefix == 0 ? 0 : ~Ipv4{0} << (32 - prefix); }
  Ipv4 broadcast() const { return base | ~mask(); }
  Ipv4 gateway() const { return base + 1; }  // Docker's choice: the first address
  bool contains(Ipv4 ip) const { return (ip & mask()) == base; }
  bool overlaps(const Subnet& other) const;
  bool operator==(const Subnet&) const = default;
};

// "172.17.0.0/16". Host bits must be zero (Docker: "invalid subnet … : it
// should be …"). Throws core::Error naming TEXT.
Subnet parse_subnet(const std::string& text);
std::string to_string(const Subnet& s);  // "172.17.0.0/16"

// What the host already reaches: its on-link routes and its nameservers
// (each as a /32).
struct HostNetworks {
  std::vector<Subnet> routes;
  std::vector<Ipv4> nameservers;
};
// The on-link routes of the calling process's network namespace
// (/proc/net/route: gateway 0.0.0.0, default route left out) and the
// IPv4 nameservers of /etc/resolv.conf.
HostNetworks read_host_networks();
// Parsers of those two files, for the tests. Pure.
std::vector<Subnet> parse_proc_net_route(const std::string& text);
std::vector<Ipv4> parse_resolv_conf_nameservers(const std::string& text);

// Docker's default pools, split into the subnets it hands out, in order.
std::vector<Subnet> default_pools();
// The first of default_pools() that overlaps none of HOST and none of
// TAKEN (other networks'); std::nullopt when every pool is in use. Pure.
std::optional<Subnet> choose_subnet(const HostNetworks& host, const std::vector<Subnet>& taken);

// The addresses of one network, kept in DIR (see above).
class AddressBook {
 public:
  AddressBook(std::filesystem::path dir, Subnet subnet);

  // The lowest free address of the subnet (not the network address, the
  // gateway or the broadcast), recorded for CONTAINER. A container that
  // already holds one gets it again. Throws core::Error when none is left.
  Ipv4 allocate(const std::string& container);
  // Frees CONTAINER's address; nothing to free is fine.
  void release(const std::string& container);
  // Who holds what: address → container id.
  std::vector<std::pair<Ipv4, std::string>> in_use() const;

 private:
  std::filesystem::path addresses() const { return dir_ / "addresses"; }
  std::filesystem::path dir_;
  Subnet subnet_;
};

}  // namespace skiff::network
