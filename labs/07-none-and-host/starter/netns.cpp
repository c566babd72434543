// labs/07-none-and-host/starter/netns.cpp — your part of netns-lab.
//
// fixed/main.cpp forks; in the child it calls, for `none`,
// enter_new_network() then bring_up_loopback(); for `container PID`,
// join_network_of(PID); for `host`, nothing. Then it runs the command. Read
// netns.hpp first: it says what each part must achieve and gives you check().
// Build and grade:   make grade LAB=07 SRC=path/to/your/folder
#include "netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace lab {

void enter_new_network() {
  // TODO(part 1): one call, wrapped in check(): unshare(2) with the flag of
  // a new network namespace (network_namespaces(7)). Until then the command
  // runs with the host's network: every interface, every port.
}

void bring_up_loopback() {
  // TODO(part 2): lo is DOWN in a new namespace. With a socket (any family,
  // e.g. AF_INET, SOCK_DGRAM) made *now*, in the new namespace:
  //   struct ifreq with ifr_name "lo";
  //   ioctl SIOCGIFFLAGS   read its flags;
  //   add IFF_UP;
  //   ioctl SIOCSIFFLAGS   write them back.
  // Each call in check(); close the socket, errors included (netdevice(7)).
}

void join_network_of(pid_t pid) {
  // TODO(part 3): open /proc/PID/ns/net (read-only) and setns(2) to it, with
  // the nstype that says "this must be a network namespace"; close the
  // descriptor. Each call in check(), naming the path: a pid that no longer
  // runs must stop netns-lab before the command starts.
  (void)pid;
}

}  // namespace lab
