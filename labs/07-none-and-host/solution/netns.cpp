// labs/07-none-and-host/solution/netns.cpp — the reference solution.
#include "netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace lab {

namespace {

// A descriptor closed on every way out, a thrown error included.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

}  // namespace

void enter_new_network() {
  // Only the calling process moves; its parent (netns-lab) stays where it was.
  check(::unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
}

void bring_up_loopback() {
  // The socket is made here, after the unshare: a socket belongs for life to
  // the namespace it was created in, and its ioctls act on that one's lo.
  Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  check(sock.fd, "socket(AF_INET, SOCK_DGRAM)");
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  check(::ioctl(sock.fd, SIOCGIFFLAGS, &req), "ioctl(SIOCGIFFLAGS, lo)");
  req.ifr_flags |= IFF_UP;
  check(::ioctl(sock.fd, SIOCSIFFLAGS, &req), "ioctl(SIOCSIFFLAGS, lo, IFF_UP)");
}

void join_network_of(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  Fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  check(ns.fd, "open " + path);
  // CLONE_NEWNET, not 0: the kernel then refuses a descriptor of another
  // kind of namespace instead of silently joining it.
  check(::setns(ns.fd, CLONE_NEWNET), "setns(" + path + ", CLONE_NEWNET)");
}

}  // namespace lab
