// 07-network/bridge.cpp — see bridge.hpp.
#include "07-network/bridge.hpp"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "07-network/nat.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/trace.hpp"
#include "engine/store.hpp"

namespace skiff::network {

namespace stdfs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kLesson = "08-bridge";  // where --explain sends the reader

stdfs::path bridge_dir(const stdfs::path& networks_dir) { return networks_dir / "bridge"; }

BridgeNetwork from_json(const json& j) {
  BridgeNetwork n;
  n.name = j.at("Name").get<std::string>();
  n.id = j.at("Id").get<std::string>();
  n.created = j.at("Created").get<std::string>();
  n.device = j.at("Device").get<std::string>();
  n.subnet = parse_subnet(j.at("Subnet").get<std::string>());
  return n;
}

std::string rfc3339_now() {
  char buf[32];
  std::time_t t = std::time(nullptr);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace

std::string host_device_for(const std::string& container) { return "veth" + container.substr(0, 11); }

BridgeNetwork default_bridge(const stdfs::path& networks_dir) {
  auto record = bridge_dir(networks_dir) / "network.json";
  if (auto text = core::fs::read_file_if_exists(record)) {
    try {
      return from_json(json::parse(*text));
    } catch (const std::exception& e) {
      throw core::Error("the default bridge's record " + record.string() + " is damaged: " + e.what());
    }
  }
  core::fs::make_dirs(bridge_dir(networks_dir), stdfs::perms::owner_all);
  core::fs::FileLock lock(networks_dir / "lock");
  if (auto text = core::fs::read_file_if_exists(record)) return from_json(json::parse(*text));
  auto subnet = choose_subnet(read_host_networks(), {});
  if (!subnet)
    throw core::Error("could not find an available, non-overlapping IPv4 address pool among the defaults "
                      "to assign to the network");
  BridgeNetwork n{"bridge", engine::Store::new_id(), rfc3339_now(), kDefaultBridgeDevice, *subnet};
  json j = {{"Name", n.name},         {"Id", n.id},
            {"Created", n.created},   {"Driver", "bridge"},
            {"Device", n.device},     {"Subnet", to_string(n.subnet)},
            {"Gateway", to_string_ipv4(n.subnet.gateway())}};
  core::fs::write_file_atomic(record, j.dump(2) + "\n");
  return n;
}

Endpoint prepare_endpoint(const stdfs::path& networks_dir, const std::string& container) {
  core::trace::Step step("07-network", "make the bridge ready on the host and take an address (IPAM)", kLesson);
  auto net = default_bridge(networks_dir);
  // The rules go with the bridge: made with it (after a boot, or after
  // `ip link delete skiff0`), not at every start. An nftables transaction
  // waits for the kernel's RCU grace period, and loading libnftables costs
  // as much again: 36 ms a start here, for rules that are already there.
  // (Something that flushes the whole ruleset takes them away, as it takes
  // Docker's; deleting skiff0 makes the next start rebuild both.)
  if (ensure_bridge(net.device, net.subnet)) run_nft(masquerade_script({{net.device, net.subnet}}));
  if (enable_ipv4_forwarding())
    std::cerr << "skiff: turned on IPv4 forwarding (net.ipv4.ip_forward=1): containers on a bridge reach "
                 "other networks through the host\n";
  AddressBook book(bridge_dir(networks_dir), net.subnet);
  Endpoint e;
  e.network = net.name;
  e.network_id = net.id;
  e.iface.bridge = net.device;
  e.iface.host_device = host_device_for(container);
  e.iface.address = book.allocate(container);
  e.iface.prefix = net.subnet.prefix;
  e.iface.gateway = net.subnet.gateway();
  e.iface.mac = mac_for(e.iface.address);
  return e;
}

void plug(const Endpoint& endpoint, int netns_fd) {
  core::trace::Step step("07-network", "plug the container's eth0 into bridge " + endpoint.iface.bridge +
                                           " (veth pair), " + to_string_ipv4(endpoint.iface.address) +
                                           ", default route via " + to_string_ipv4(endpoint.iface.gateway),
                         kLesson);
  connect_namespace(netns_fd, endpoint.iface);
}

void release_endpoint(const stdfs::path& networks_dir, const std::string& container) {
  // Usually gone already: the namespace died with the container's last
  // process, and its eth0 took the host's end along. Not when another
  // container still shares the namespace (--network container:NAME).
  if (link_exists(host_device_for(container))) delete_link(host_device_for(container));
  auto record = core::fs::read_file_if_exists(bridge_dir(networks_dir) / "network.json");
  if (!record) return;
  AddressBook(bridge_dir(networks_dir), from_json(json::parse(*record)).subnet).release(container);
}

std::string hosts_with_address(const std::string& hosts, const std::string& hostname, Ipv4 ip) {
  std::string out, line;
  std::istringstream in(hosts);
  const std::string mine = "\t" + hostname;
  while (std::getline(in, line))
    if (!line.ends_with(mine)) out += line + "\n";
  return out + to_string_ipv4(ip) + mine + "\n";
}

std::string resolv_conf_for_bridge(const std::string& host) {
  std::string kept;
  bool any_nameserver = false;
  std::istringstream in(host);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string key, value;
    f >> key >> value;
    if (key == "nameserver") {
      // A loopback cache is the host's, unreachable from the container's
      // namespace; an IPv6 server is unreachable from a bridge without IPv6.
      bool loopback = value.rfind("127.", 0) == 0;
      if (loopback || value.find(':') != std::string::npos) continue;
      any_nameserver = true;
    }
    kept += line + "\n";
  }
  if (!any_nameserver) kept += "nameserver 8.8.8.8\nnameserver 8.8.4.4\n";
  return kept;
}

}  // namespace skiff::network
