// 07-network/nat.hpp — what lets a container on a bridge reach beyond the
// host: IPv4 forwarding, and masquerade in an nftables table of skiff's own.
//
// Kernel concept: a packet from a container arrives on the bridge with the
//   container's private source address (172.17.0.2). The host forwards it
//   (net.ipv4.ip_forward, off on a fresh machine) out of its own interface,
//   and netfilter's NAT, at the postrouting hook, rewrites the source to
//   that interface's address ("masquerade"); conntrack remembers the
//   rewrite and undoes it on the replies. Nothing comes in unasked: only
//   replies to what went out (incoming connections need published ports).
// Man pages: nft(8), libnftables(3), ip-sysctl (net.ipv4.ip_forward).
// Runs in: the CLI, when a container joins a bridge network.
// Privilege: CAP_NET_ADMIN.
// Lesson: lessons/08-bridge.
//
// skiff never touches another program's rules or the host's policies: all
// of it lives in one table, "ip skiff", rebuilt whole in one transaction.
// libnftables is loaded with dlopen(3) the first time (as libcurl is, see
// 05-images/http.hpp): a `run` that needs no NAT does not pay for it.
#pragma once

#include <string>
#include <vector>

#include "07-network/ipam.hpp"

namespace skiff::network {

// One bridge network as NAT sees it.
struct Masqueraded {
  std::string device;  // the bridge: traffic leaving through it stays unrewritten
  Subnet subnet;
};

// The nft script that makes table ip skiff hold exactly the rules for
// NETWORKS (the table and chain are made if missing, the chain emptied,
// then filled: one transaction). Pure.
std::string masquerade_script(const std::vector<Masqueraded>& networks);

// Runs SCRIPT through libnftables, all of it or none. Throws core::Error
// with nft's own message (or why libnftables could not be loaded).
void run_nft(const std::string& script);

// Turns on IPv4 forwarding in the caller's network namespace; returns
// true if it was off (the caller says so, once).
bool enable_ipv4_forwarding();

}  // namespace skiff::network
