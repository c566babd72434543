// tests/unit/test_network_bridge.cpp — the bookkeeping of the bridge
// network (runtime/07-network): subnets, the default pool Docker would
// choose on a given host, the address book on disk, the nftables script,
// the container's resolv.conf. No root, no network touched.
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "07-network/bridge.hpp"
#include "07-network/ipam.hpp"
#include "07-network/mode.hpp"
#include "07-network/nat.hpp"
#include "core/error.hpp"
#include "temp_dir.hpp"

namespace net = skiff::network;

TEST_CASE("subnets: parsed, printed, and refused with Docker's words", "[network]") {
  auto s = net::parse_subnet("172.17.0.0/16");
  CHECK(net::to_string(s) == "172.17.0.0/16");
  CHECK(net::to_string_ipv4(s.gateway()) == "172.17.0.1");
  CHECK(net::to_string_ipv4(s.broadcast()) == "172.17.255.255");
  CHECK(s.contains(net::parse_ipv4("172.17.200.3")));
  CHECK_FALSE(s.contains(net::parse_ipv4("172.18.0.1")));
  CHECK(s.overlaps(net::parse_subnet("172.17.5.0/24")));
  CHECK(net::parse_subnet("172.16.0.0/12").overlaps(s));
  CHECK_FALSE(s.overlaps(net::parse_subnet("172.18.0.0/16")));
  CHECK_THROWS_WITH(net::parse_subnet("172.17.0.1/16"), "invalid subnet 172.17.0.1/16: it should be 172.17.0.0/16");
  CHECK_THROWS_WITH(net::parse_subnet("172.17.0.0"), "invalid CIDR address: 172.17.0.0");
  CHECK_THROWS_WITH(net::parse_subnet("172.17.0.0/33"), "invalid CIDR address: 172.17.0.0/33");
  CHECK_THROWS_WITH(net::parse_subnet("300.1.0.0/16"), "invalid CIDR address: 300.1.0.0/16");
}

TEST_CASE("the default bridge's subnet: Docker's first pool the host does not reach already", "[network]") {
  auto pools = net::default_pools();
  REQUIRE(pools.size() == 3 + 3 * 4 + 16);
  CHECK(net::to_string(pools[0]) == "172.17.0.0/16");
  CHECK(net::to_string(pools[3]) == "172.20.0.0/16");
  CHECK(net::to_string(pools[14]) == "172.31.0.0/16");
  CHECK(net::to_string(pools[15]) == "192.168.0.0/20");
  CHECK(net::to_string(pools.back()) == "192.168.240.0/20");

  net::HostNetworks empty;
  CHECK(net::to_string(*net::choose_subnet(empty, {})) == "172.17.0.0/16");
  // A LAN on 172.17.3.0/24, a nameserver in 172.18/16: both skipped.
  net::HostNetworks busy{{net::parse_subnet("172.17.3.0/24")}, {net::parse_ipv4("172.18.0.53")}};
  CHECK(net::to_string(*net::choose_subnet(busy, {})) == "172.19.0.0/16");
  // A wide route (172.16.0.0/12) covers every 172 pool.
  net::HostNetworks wide{{net::parse_subnet("172.16.0.0/12")}, {}};
  CHECK(net::to_string(*net::choose_subnet(wide, {})) == "192.168.0.0/20");
  net::HostNetworks all{{net::parse_subnet("172.16.0.0/12"), net::parse_subnet("192.168.0.0/16")}, {}};
  CHECK_FALSE(net::choose_subnet(all, {}));
}

TEST_CASE("the host's on-link routes and nameservers, read as the kernel and resolv.conf write them", "[network]") {
  // eth0 10.0.2.0/24 on the link, a default route via 10.0.2.2 (ignored),
  // a route to 192.168.7.0/24 via a gateway (ignored: not on a link).
  const std::string route =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
      "eth0\t0007A8C0\t0202000A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
  auto routes = net::parse_proc_net_route(route);
  REQUIRE(routes.size() == 1);
  CHECK(net::to_string(routes[0]) == "10.0.2.0/24");
  auto ns = net::parse_resolv_conf_nameservers("# x\nsearch lan\nnameserver 10.0.2.3\nnameserver ::1\n");
  REQUIRE(ns.size() == 1);
  CHECK(net::to_string_ipv4(ns[0]) == "10.0.2.3");
}

TEST_CASE("the address book hands out the lowest free address, once, and takes it back", "[network]") {
  skiff::testing::TempDir dir;
  net::AddressBook book(dir.path(), net::parse_subnet("10.9.0.0/29"));  // .2 to .6 usable
  CHECK(net::to_string_ipv4(book.allocate("a")) == "10.9.0.2");
  CHECK(net::to_string_ipv4(book.allocate("b")) == "10.9.0.3");
  CHECK(net::to_string_ipv4(book.allocate("a")) == "10.9.0.2");  // already its own
  book.release("a");
  CHECK(net::to_string_ipv4(book.allocate("c")) == "10.9.0.2");  // freed, reused
  CHECK(net::to_string_ipv4(book.allocate("d")) == "10.9.0.4");
  CHECK(net::to_string_ipv4(book.allocate("e")) == "10.9.0.5");
  CHECK(net::to_string_ipv4(book.allocate("f")) == "10.9.0.6");
  CHECK_THROWS_WITH(book.allocate("g"), Catch::Contains("no available IPv4 addresses"));
  CHECK(book.in_use().size() == 5);
  book.release("nobody");  // nothing to free: fine
  CHECK(book.in_use().size() == 5);
}

TEST_CASE("two starts at once never get the same address", "[network]") {
  skiff::testing::TempDir dir;
  auto subnet = net::parse_subnet("10.8.0.0/24");
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      net::AddressBook book(dir.path(), subnet);
      got[i] = net::to_string_ipv4(book.allocate("c" + std::to_string(i)));
    });
  for (auto& t : threads) t.join();
  CHECK(std::set<std::string>(got.begin(), got.end()).size() == 8);
}

TEST_CASE("NAT: one script rebuilds skiff's own table, masquerading what leaves the bridge", "[network]") {
  auto script = net::masquerade_script({{"skiff0", net::parse_subnet("172.17.0.0/16")}});
  CHECK(script ==
        "add table ip skiff\n"
        "add chain ip skiff postrouting { type nat hook postrouting priority srcnat; policy accept; }\n"
        "flush chain ip skiff postrouting\n"
        "add rule ip skiff postrouting ip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade\n");
}

TEST_CASE("a container's resolv.conf on the bridge: the host's, without what it cannot reach", "[network]") {
  CHECK(net::resolv_conf_for_bridge("search lan\nnameserver 10.0.2.3\noptions ndots:2\n") ==
        "search lan\nnameserver 10.0.2.3\noptions ndots:2\n");
  // systemd-resolved's stub and an IPv6 server: Docker's fallback instead.
  CHECK(net::resolv_conf_for_bridge("nameserver 127.0.0.53\nnameserver fd00::1\nsearch lan\n") ==
        "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  CHECK(net::resolv_conf_for_bridge("") == "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
}

TEST_CASE("names on the bridge: Docker's MAC for an address, the host's end of the pair", "[network]") {
  CHECK(net::mac_for(net::parse_ipv4("172.17.0.2")) == "02:42:ac:11:00:02");
  auto id = std::string(64, 'a').replace(0, 12, "0123456789ab");
  CHECK(net::host_device_for(id) == "veth0123456789a");
  CHECK(net::host_device_for(id).size() == 15);  // IFNAMSIZ - 1
  CHECK(net::parse_mode("bridge").kind == net::Kind::bridge);
  CHECK(net::parse_mode("default").kind == net::Kind::bridge);
  CHECK(net::to_string(net::parse_mode("bridge")) == "bridge");
  CHECK(net::own_namespace(net::parse_mode("bridge")));
}

TEST_CASE("a container's /etc/hosts on the bridge: its name on its address, once per start", "[network]") {
  const std::string base = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  auto first = net::hosts_with_address(base, "web", net::parse_ipv4("172.17.0.2"));
  CHECK(first == base + "172.17.0.2\tweb\n");
  // Started again with another address: the old line goes, the new one comes.
  CHECK(net::hosts_with_address(first, "web", net::parse_ipv4("172.17.0.5")) == base + "172.17.0.5\tweb\n");
}
