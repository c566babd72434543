// 03-namespaces/namespaces.cpp — see namespaces.hpp.
#include "03-namespaces/namespaces.hpp"

#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"

namespace skiff::ns {

unsigned long clone_flags() {
  return CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET;
}

pid_t clone_process(unsigned long flags) {
  // The raw system call with no new stack behaves like fork(2): the child
  // resumes here on a copy of our stack. SIGCHLD makes it an ordinary child
  // that waitpid() can reap.
  if (core::trace::enabled())
    core::trace::call("clone(" + core::sys::clone_flags(flags | SIGCHLD) + ")");
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid < 0) throw core::SystemError(errno, "clone(" + core::sys::clone_flags(flags) + ")");
  return static_cast<pid_t>(pid);
}

void make_mounts_private() {
  // MS_REC: the whole tree below "/", not just the root mount.
  core::sys::mount("", "/", "", MS_REC | MS_PRIVATE);
}

void set_hostname(const std::string& hostname) { core::sys::sethostname(hostname); }

void bring_up_loopback() {
  // The classic ioctl: a socket of any family is a handle for interface
  // requests. (Module 07 drives richer devices through netlink.)
  core::Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) throw core::SystemError(errno, "socket(AF_INET)");
  struct ifreq req {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  core::trace::call("ioctl(SIOCSIFFLAGS, lo, IFF_UP)");
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) < 0)
    throw core::SystemError(errno, "ioctl(SIOCGIFFLAGS, lo)");
  req.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) < 0)
    throw core::SystemError(errno, "ioctl(SIOCSIFFLAGS, lo, IFF_UP)");
}

}  // namespace skiff::ns
