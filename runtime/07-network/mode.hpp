// 07-network/mode.hpp — which network stack a container gets (--network).
//
// Kernel concept: a network namespace holds a whole stack of its own:
//   interfaces, addresses, routes, firewall rules, sockets, ports.
//   none            a new namespace, with only lo: isolated, and offline
//   host            no new namespace: the host's stack itself, its
//                   interfaces and every port it listens on (no isolation)
//   container:NAME  the namespace of another running container: the two
//                   share one stack (lo included), as a pod's containers do
//   bridge          a new namespace plugged into the default bridge network
//                   (bridge.hpp): an eth0 with an address, the way out
//                   through the host
// Man pages: network_namespaces(7), setns(2), clone(2).
// Runs in: the CLI (parse, resolve), the child (join container:NAME).
// Lesson: lessons/07-none-and-host (lab: labs/07-none-and-host); the bridge
//   and published ports come later on the same module.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace skiff::network {

enum class Kind { none, host, container, bridge };

struct Mode {
  Kind kind = Kind::none;
  std::string container;  // container: the other container's id (the CLI resolves the name)
};

// "none", "host", "container:NAME" (NAME as given; empty is an error),
// "bridge" (or Docker's old "default"). Anything else is refused with
// Docker's words for an unknown network.
Mode parse_mode(const std::string& text);

// Docker's HostConfig.NetworkMode: "none", "host", "container:<id>", "bridge".
std::string to_string(const Mode& mode);

// Whether the container gets a network namespace of its own (and so the
// clone flag, and an lo to bring up).
inline bool own_namespace(const Mode& mode) { return mode.kind == Kind::none || mode.kind == Kind::bridge; }

// In the child, before it is pivoted away from the host's /proc: joins the
// network namespace of PID, the other container's PID 1, provided PID is
// still the process that started at START_TIME (a pid can be reused).
void join_namespace_of(pid_t pid, uint64_t start_time, const std::string& container);

}  // namespace skiff::network
