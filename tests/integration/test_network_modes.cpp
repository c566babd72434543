// tests/integration/test_network_modes.cpp — --network none, host and
// container:NAME as a user meets them: which interfaces a container sees,
// which network namespace it is in (compared by inode with the host's and
// with the other container's), its hostname and /etc/hosts, inspect's
// NetworkMode, and Docker's errors. No traffic is sent anywhere.
// Module: runtime/07-network. Needs root.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <set>

#include "harness.hpp"

using it::contains;
using it::trim;

namespace {

// The interface names in TEXT's /proc/net/dev lines ("  eth0: 1234 5 …"),
// those of the reader's namespace; other lines of TEXT are skipped.
std::set<std::string> interfaces(const std::string& text) {
  std::set<std::string> names;
  for (const auto& line : it::lines(text)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto counters = trim(line.substr(colon + 1));
    if (!counters.empty() && std::isdigit(static_cast<unsigned char>(counters[0])))
      names.insert(trim(line.substr(0, colon)));
  }
  return names;
}

std::string host_netns() {
  return std::filesystem::read_symlink("/proc/self/ns/net").string();
}

}  // namespace

TEST_CASE("run --network none, and no --network: a namespace of its own with only lo", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  for (std::vector<std::string> flags : {std::vector<std::string>{}, {"--network", "none"}, {"--net", "none"}}) {
    std::vector<std::string> args = {"run", "--rm"};
    args.insert(args.end(), flags.begin(), flags.end());
    for (auto a : {"busybox", "sh", "-c", "cat /proc/net/dev; readlink /proc/self/ns/net"}) args.push_back(a);
    auto r = box.run(args);
    REQUIRE(r.code == 0);
    CHECK(interfaces(r.out) == std::set<std::string>{"lo"});
    CHECK_FALSE(contains(r.out, host_netns()));
  }
  auto name = box.name("none");
  REQUIRE(box.run({"run", "--name", name, "busybox", "true"}).code == 0);
  CHECK(box.inspect(name)["HostConfig"]["NetworkMode"] == "none");
}

TEST_CASE("run --network host: the host's own stack, hostname and /etc/hosts", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto name = box.name("host");
  auto r = box.run({"run", "--name", name, "--network", "host", "busybox", "sh", "-c",
                    "readlink /proc/self/ns/net; hostname; cat /etc/hosts; echo ==; cat /proc/net/dev"});
  REQUIRE(r.code == 0);
  auto parts = it::lines(r.out);
  REQUIRE(parts.size() > 3);
  CHECK(parts[0] == host_netns());
  char host_name[256] = {};
  REQUIRE(::gethostname(host_name, sizeof host_name - 1) == 0);
  CHECK(parts[1] == host_name);
  auto hosts = r.out.substr(r.out.find('\n', r.out.find('\n') + 1) + 1);
  CHECK(hosts.substr(0, hosts.find("==\n")) == it::read_file("/etc/hosts"));
  CHECK(interfaces(r.out.substr(r.out.find("==\n") + 3)) == interfaces(it::read_file("/proc/net/dev")));
  CHECK(box.inspect(name)["HostConfig"]["NetworkMode"] == "host");
  // The host's traffic is not the container's: stats counts none, as Docker.
  auto live = box.name("live");
  auto bg = box.spawn({"run", "--name", live, "--network", "host", "busybox", "sleep", "30"});
  box.wait_running(live);
  auto stats = box.run({"stats", "--no-stream", live});
  CHECK(stats.code == 0);
  CHECK(contains(stats.out, "   0B / 0B   "));
  REQUIRE(box.run({"rm", "-f", live}).code == 0);
  bg.wait();
  // Its own hostname when asked: the uts namespace is still its own.
  auto named = box.run({"run", "--rm", "--network", "host", "-h", "elsewhere", "busybox", "hostname"});
  CHECK(named.code == 0);
  CHECK(named.out == "elsewhere\n");
  char after[256] = {};
  REQUIRE(::gethostname(after, sizeof after - 1) == 0);
  CHECK(std::string(after) == host_name);
}

TEST_CASE("run --network container:NAME shares that container's stack and name", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto peer = box.name("peer");
  auto bg = box.spawn({"run", "--name", peer, "-h", "podname", "busybox", "sleep", "30"});
  auto id = box.wait_running(peer)["Id"].get<std::string>();
  auto theirs = box.run({"exec", peer, "readlink", "/proc/self/ns/net"});
  REQUIRE(theirs.code == 0);
  CHECK(theirs.out != host_netns() + "\n");

  auto joiner = box.name("joiner");
  auto r = box.run({"run", "--name", joiner, "--network", "container:" + peer, "busybox", "sh", "-c",
                    "readlink /proc/self/ns/net; hostname; cat /proc/net/dev"});
  REQUIRE(r.code == 0);
  auto out = it::lines(r.out);
  REQUIRE(out.size() > 2);
  CHECK(out[0] + "\n" == theirs.out);
  CHECK(out[1] == "podname");
  CHECK(interfaces(r.out) == std::set<std::string>{"lo"});
  CHECK(box.inspect(joiner)["HostConfig"]["NetworkMode"] == "container:" + id);
  // By id prefix too, and --net is the same option.
  CHECK(box.run({"run", "--rm", "--net", "container:" + id.substr(0, 12), "busybox", "true"}).code == 0);

  // Docker's refusals, each a 125 with one line and nothing made.
  auto before = box.container_entries();
  auto hostname = box.run({"run", "--rm", "--network", "container:" + peer, "-h", "x", "busybox", "true"});
  CHECK(hostname.code == 125);
  CHECK(hostname.err == "skiff: conflicting options: hostname and the network mode\n");
  auto missing = box.run({"run", "--rm", "--network", "container:" + box.name("nobody"), "busybox", "true"});
  CHECK(missing.code == 125);
  CHECK(missing.err == "skiff: No such container: " + box.name("nobody") + "\n");
  CHECK(box.container_entries() == before);

  REQUIRE(box.run({"rm", "-f", peer}).code == 0);
  bg.wait();
  auto stopped = box.run({"start", joiner});
  CHECK(stopped.code != 0);
  CHECK(contains(stopped.err, "cannot join network of a non running container: " + id));
}

TEST_CASE("run --network refuses what it does not know, and what cannot go together", "[kernel]") {
  it::require_root();
  it::Sandbox box;
  auto before = box.container_entries();
  auto bogus = box.run({"run", "--rm", "--network", "bogus", "busybox", "true"});
  CHECK(bogus.code == 125);
  CHECK(bogus.err == "skiff: network bogus not found\n");
  auto empty = box.run({"run", "--rm", "--network", "container:", "busybox", "true"});
  CHECK(empty.code == 125);
  CHECK(contains(empty.err, "invalid container format"));
  auto both = box.run({"run", "--rm", "--network", "none", "--net", "host", "busybox", "true"});
  CHECK(both.code == 125);
  CHECK(box.container_entries() == before);
}
