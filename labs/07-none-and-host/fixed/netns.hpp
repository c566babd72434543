// labs/07-none-and-host/fixed/netns.hpp — the three functions you write in
// netns.cpp, and the helper given to you. Do not change this file: the
// grader compiles its own copy.
//
// A network namespace is a whole network stack: interfaces, addresses,
// routes, firewall rules, sockets and the ports they hold. netns-lab starts a
// command in one of three (fixed/main.cpp forks; the child calls you):
//   none            a new namespace: enter_new_network(), then bring_up_loopback()
//   host            the namespace it was started in: none of your functions
//   container PID   the namespace of process PID: join_network_of(PID)
//
// Man pages: network_namespaces(7), unshare(2), setns(2), netdevice(7)
// (SIOCGIFFLAGS, SIOCSIFFLAGS), proc(5) (/proc/PID/ns/). Lesson:
// lessons/07-none-and-host. skiff's own version: runtime/07-network/mode.cpp
// and bring_up_loopback() in runtime/03-namespaces/namespaces.cpp — read them
// *after* the lab.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace lab {

// Part 1 (none). Move the calling process into a new, empty network
// namespace. Afterwards it has one device, lo, and lo is DOWN: nothing, not
// even 127.0.0.1, answers yet.
void enter_new_network();

// Part 2 (none, after part 1). Bring lo UP in the namespace the calling
// process is in *now*, keeping its other flags: read them (SIOCGIFFLAGS), add
// IFF_UP, write them back (SIOCSIFFLAGS). An ioctl on a socket acts on the
// namespace that socket was created in, not on the caller's current one.
void bring_up_loopback();

// Part 3 (container PID). Join the network namespace of process PID: open
// /proc/PID/ns/net and setns(2) to it, saying which kind of namespace the
// descriptor must be. A PID that does not exist is an error (with the path
// and errno's text); the command must then not run.
void join_network_of(pid_t pid);

// Given: throws std::system_error(errno, WHAT) (a std::runtime_error) when
// RC is -1, the failure return of most system calls. main() prints it as
// "netns-lab: WHAT: reason" and exits with 125. Wrap every call:
// check(::unshare(…), "unshare(CLONE_NEWNET)");
inline void check(long rc, const std::string& what) {
  if (rc == -1) throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace lab
