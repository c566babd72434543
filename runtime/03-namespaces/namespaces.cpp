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

#include <cstdint>
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

namespace {

// The kernel's struct clone_args as clone3(2) reads it, up to the field
// CLONE_INTO_CGROUP needs (Linux 5.7, CLONE_ARGS_SIZE_VER2). Spelled out
// here rather than taken from <linux/sched.h>, which clashes with glibc's
// <sched.h>.
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
  uint64_t set_tid, set_tid_size, cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

}  // namespace

std::optional<pid_t> clone_process_into(unsigned long flags, int cgroup_fd,
                                        const std::string& shown) {
  auto call = [&] {
    return "clone3(" + core::sys::clone_flags(flags) + "|CLONE_INTO_CGROUP, exit_signal=SIGCHLD, cgroup=" + shown + ")";
  };
  if (core::trace::enabled()) core::trace::call(call());
  CloneArgs args{};
  args.flags = flags | kCloneIntoCgroup;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  // No stack given: as with clone_process, the child resumes here on a copy
  // of ours, like fork(2).
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid >= 0) return static_cast<pid_t>(pid);
  // ENOSYS: no clone3 (before 5.3); E2BIG: a clone_args with no cgroup
  // field (5.3 to 5.6). Anything else is a real failure.
  if (errno == ENOSYS || errno == E2BIG) {
    if (core::trace::enabled()) core::trace::call("(this kernel has no CLONE_INTO_CGROUP: clone, then move)");
    return std::nullopt;
  }
  throw core::SystemError(errno, call());
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
