// tests/integration/test_network_bridge.cpp — --network bridge as a user
// meets it: the container's eth0, address, route, /etc/hosts and
// /etc/resolv.conf; two containers reaching each other; the host's side
// (skiff0, skiff's nftables table, forwarding, said once); what a stop,
// a failed start and rm leave (nothing); inspect's NetworkSettings.
//
// Network safety: every test runs in a network namespace of its own that
// plays the host (it::PrivateHostNetwork): skiff's bridge, rules and
// forwarding are made there, and traffic goes only between that
// namespace and the containers' namespaces inside it.
// Module: runtime/07-network. Needs root.
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>

#include "harness.hpp"

using it::contains;
using it::trim;

namespace {

// The interface names of the reader's namespace, from /proc/net/dev.
std::set<std::string> interfaces_here() {
  std::set<std::string> names;
  for (const auto& line : it::lines(it::read_file("/proc/net/dev"))) {
    auto colon = line.find(':');
    if (colon != std::string::npos && line.find('|') == std::string::npos) names.insert(trim(line.substr(0, colon)));
  }
  return names;
}

// iproute2's ip, not busybox's (the micro-VM has both): only the former
// makes a veth pair, or a veth's peer straight in another namespace.
std::string iproute2() { return std::filesystem::exists("/usr/sbin/ip") ? "/usr/sbin/ip" : "ip"; }

std::set<std::string> addresses_in_use(const it::Sandbox& box) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(box.root() / "networks/bridge/addresses", ec))
    out.insert(e.path().filename().string());
  return out;
}

}  // namespace

TEST_CASE("run --network bridge: eth0 with an address, a route via the gateway, hosts and resolv.conf", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  // A new namespace starts with the machine's forwarding setting: off, as
  // on a fresh machine, whatever this one says.
  host.sh("echo 0 > /proc/sys/net/ipv4/ip_forward");
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--network", "bridge", "-h", "web", "busybox", "sh", "-c",
                    "ip -4 -o addr show eth0; ip route; tail -1 /etc/hosts; cat /etc/resolv.conf; "
                    "ping -c1 -W2 172.17.0.1 >/dev/null && echo gateway-answers"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "eth0    inet 172.17.0.2/16 "));
  CHECK(contains(r.out, "default via 172.17.0.1 dev eth0"));
  CHECK(contains(r.out, "172.17.0.2\tweb\n"));
  CHECK(contains(r.out, "nameserver "));
  CHECK_FALSE(contains(r.out, "nameserver 127."));
  CHECK(contains(r.out, "gateway-answers"));
  // Forwarding was off in this fresh namespace: turned on, and said, once.
  CHECK(contains(r.err, "turned on IPv4 forwarding"));
  CHECK(trim(it::read_file("/proc/sys/net/ipv4/ip_forward")) == "1");
  auto again = box.run({"run", "--rm", "--network", "bridge", "busybox", "true"});
  CHECK(again.code == 0);
  CHECK(again.err.empty());
  // The container has gone: its address is free, its veth went with its
  // namespace; the bridge stays, as docker0 does.
  CHECK(addresses_in_use(box).empty());
  CHECK(interfaces_here() == std::set<std::string>{"lo", "skiff0"});
}

TEST_CASE("two containers on the bridge reach each other, and inspect shows the address while it runs", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  it::Sandbox box;
  auto server = box.name("srv");
  REQUIRE(box.run({"run", "-d", "--name", server, "--network", "bridge", "busybox", "sh", "-c",
                   "while true; do echo hello-from-srv | nc -l -p 7000; done"}).code == 0);
  auto j = box.wait_running(server);
  auto settings = j["NetworkSettings"];
  std::string ip = settings["IPAddress"];
  CHECK(ip == "172.17.0.2");
  CHECK(settings["Gateway"] == "172.17.0.1");
  CHECK(settings["IPPrefixLen"] == 16);
  CHECK(settings["MacAddress"] == "02:42:ac:11:00:02");
  CHECK(settings["Networks"]["bridge"]["IPAddress"] == ip);
  CHECK(j["HostConfig"]["NetworkMode"] == "bridge");
  CHECK(addresses_in_use(box) == std::set<std::string>{ip});

  // The client gets the next address, and the server's greeting through
  // the bridge (nc retries until the server listens).
  auto client = box.run({"run", "--rm", "--network", "bridge", "busybox", "sh", "-c",
                         "ip -4 -o addr show eth0; for i in 1 2 3 4 5 6 7 8 9 10; do "
                         "nc -w 2 " + ip + " 7000 </dev/null && exit 0; sleep 0.3; done; exit 1"});
  INFO("client: " << client.out << client.err);
  CHECK(client.code == 0);
  CHECK(contains(client.out, "172.17.0.3/16"));
  CHECK(contains(client.out, "hello-from-srv"));

  // The host reaches the container too: its address is on the host's bridge.
  auto ping = host.sh("busybox ping -c1 -W2 " + ip + " >/dev/null && echo reached", true);
  CHECK(contains(ping, "reached"));

  // Stopped: no address, in inspect or on disk; the network stays named.
  REQUIRE(box.run({"stop", "-t", "1", server}).code == 0);
  auto stopped = box.inspect(server)["NetworkSettings"];
  CHECK(stopped["IPAddress"] == "");
  CHECK(stopped["Networks"]["bridge"]["IPAddress"] == "");
  CHECK(addresses_in_use(box).empty());
  CHECK(interfaces_here() == std::set<std::string>{"lo", "skiff0"});
  CHECK(box.run({"rm", server}).code == 0);
}

TEST_CASE("the bridge on the host: skiff0 holds the gateway, skiff's table masquerades what leaves", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  it::Sandbox box;
  REQUIRE(box.run({"run", "--rm", "--network", "bridge", "busybox", "true"}).code == 0);
  CHECK(contains(host.sh("ip -4 -o addr show dev skiff0"), "172.17.0.1/16"));
  auto rules = host.sh("nft list table ip skiff");
  CHECK(contains(rules, "type nat hook postrouting priority srcnat; policy accept;"));
  CHECK(contains(rules, "ip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade"));
  // Made with the bridge, not at each start: the rule is there once,
  // however many ran.
  REQUIRE(box.run({"run", "--rm", "--network", "bridge", "busybox", "true"}).code == 0);
  auto twice = host.sh("nft list table ip skiff");
  CHECK(twice.find("masquerade") == twice.rfind("masquerade"));
  // A flushed ruleset takes the rules away (as it takes Docker's); deleting
  // skiff0 makes the next start rebuild the bridge and its rules together.
  host.sh("nft flush ruleset && ip link delete skiff0");
  REQUIRE(box.run({"run", "--rm", "--network", "bridge", "busybox", "true"}).code == 0);
  CHECK(contains(host.sh("nft list table ip skiff"), "ip saddr 172.17.0.0/16 oifname != \"skiff0\" masquerade"));
  CHECK(contains(host.sh("ip -4 -o addr show dev skiff0"), "172.17.0.1/16"));
  // --explain sends the reader to the lesson that teaches the bridge.
  auto explained = box.run({"--explain", "run", "--rm", "--network", "bridge", "busybox", "true"});
  CHECK(contains(explained.err, "[07-network] plug the container's eth0 into bridge skiff0"));
  CHECK(contains(explained.err, "(lessons/08-bridge)"));
  CHECK_FALSE(contains(explained.err, "bridge skiff0 (veth pair), 172.17.0.2, default route via 172.17.0.1   (lessons/07"));
  // The record of the default network, chosen once.
  auto record = it::read_file(box.root() / "networks/bridge/network.json");
  CHECK(contains(record, "\"Subnet\": \"172.17.0.0/16\""));
  CHECK(contains(record, "\"Device\": \"skiff0\""));
}

TEST_CASE("a host that already uses 172.17.0.0/16 gets the next pool", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  // A "LAN" on 172.17.5.0/24, on a device of this private host only.
  const auto ip = iproute2();
  host.sh(ip + " link add lan0 type veth peer name lan1 && " + ip + " addr add 172.17.5.1/24 dev lan0 && " + ip +
          " link set lan0 up && " + ip + " link set lan1 up");
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--network", "bridge", "busybox", "ip", "-4", "-o", "addr", "show", "eth0"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "172.18.0.2/16"));
  CHECK(contains(host.sh("ip -4 -o addr show dev skiff0"), "172.18.0.1/16"));
}

TEST_CASE("a start that fails on the bridge frees its address and leaves no veth", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  it::Sandbox box;
  auto name = box.name("broken");
  auto r = box.run({"run", "--name", name, "--network", "bridge", "busybox", "nosuchcommand"});
  CHECK(r.code == 127);
  CHECK(addresses_in_use(box).empty());
  CHECK(interfaces_here() == std::set<std::string>{"lo", "skiff0"});
  auto restarted = box.run({"start", name});
  CHECK(restarted.code != 0);
  CHECK(addresses_in_use(box).empty());
  CHECK(box.run({"rm", name}).code == 0);
  // --upto chroot has no network namespace to plug: refused before anything.
  auto before = box.container_entries();
  auto upto = box.run({"run", "--rm", "--network", "bridge", "--upto", "chroot", "busybox", "true"});
  CHECK(upto.code == 125);
  CHECK(contains(upto.err, "--network bridge needs a network namespace"));
  CHECK(box.container_entries() == before);
}

// Outbound NAT, proven with traffic that never leaves the test: a second
// namespace plays "the outside", reached from the private host through a
// veth on 198.51.100.0/24 (TEST-NET-2), with no route back to the bridge's
// subnet. A container's connection there can only get its answer if the
// host rewrote its source to 198.51.100.1: masquerade.
TEST_CASE("a container on the bridge reaches the outside through the host's masquerade", "[kernel]") {
  it::require_root();
  it::PrivateHostNetwork host;
  // The outside: a process of its own network namespace, killed at the end.
  pid_t outside = ::fork();
  REQUIRE(outside >= 0);
  if (outside == 0) {
    if (::unshare(CLONE_NEWNET) < 0) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  struct Killer {
    pid_t pid;
    ~Killer() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  } killer{outside};
  auto in_outside = "nsenter --net=/proc/" + std::to_string(outside) + "/ns/net ";
  // Until the child has unshared, its namespace is still ours.
  for (int i = 0; i < 100 && std::filesystem::read_symlink("/proc/" + std::to_string(outside) + "/ns/net") ==
                                 std::filesystem::read_symlink("/proc/self/ns/net");
       ++i)
    ::usleep(10000);
  const auto ip = iproute2();
  host.sh(ip + " link add out0 type veth peer name out1 netns " + std::to_string(outside) + " && " + ip +
          " addr add 198.51.100.1/24 dev out0 && " + ip + " link set out0 up");
  host.sh(in_outside + "sh -c '" + ip + " link set lo up && " + ip + " addr add 198.51.100.2/24 dev out1 && " +
          ip + " link set out1 up'");
  CHECK_FALSE(contains(host.sh(in_outside + ip + " route"), "172.17"));
  host.sh(in_outside + "sh -c 'busybox nc -l -p 8000 -e echo hello-from-outside >/dev/null 2>&1 &'");
  it::Sandbox box;
  auto r = box.run({"run", "--rm", "--network", "bridge", "busybox", "sh", "-c",
                    "for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 2 198.51.100.2 8000 </dev/null && exit 0; "
                    "sleep 0.3; done; exit 1"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.code == 0);
  CHECK(contains(r.out, "hello-from-outside"));
}
