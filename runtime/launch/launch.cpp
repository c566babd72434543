// launch/launch.cpp — the parent side of the pipeline. See launch.hpp.
#include "launch/launch.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <string>

#include "03-namespaces/namespaces.hpp"
#include "04-cgroups/cgroups.hpp"
#include "07-network/bridge.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/trace.hpp"
#include "launch/report.hpp"

namespace skiff::launch {
namespace {

// Kills and reaps the child unless it was handed over: a failed start must
// not leave a half-made container running (crun's cleanup_pid).
class ChildOwner {
 public:
  explicit ChildOwner(pid_t pid) : pid_(pid) {}
  ChildOwner(const ChildOwner&) = delete;
  ChildOwner& operator=(const ChildOwner&) = delete;
  ~ChildOwner() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_t pid() const { return pid_; }
  pid_t release() { return std::exchange(pid_, 0); }

 private:
  pid_t pid_;
};

// Removes the cgroup unless the start succeeded.
class CgroupOwner {
 public:
  explicit CgroupOwner(std::optional<cgroups::Cgroup> cg) : cg_(std::move(cg)) {}
  ~CgroupOwner() {
    if (!cg_) return;
    try {
      cg_->remove();
    } catch (...) {  // already failing: the first error is the one to report
    }
  }
  const std::optional<cgroups::Cgroup>& get() const { return cg_; }
  void release() { cg_.reset(); }

 private:
  std::optional<cgroups::Cgroup> cg_;
};

std::optional<cgroups::Cgroup> create_cgroup(const ContainerSpec& spec) {
  if (spec.upto < Upto::cgroups) return std::nullopt;
  core::trace::Step step("04-cgroups", "create the container's cgroup and write its limits");
  return cgroups::Cgroup::create(cgroups::detect(), cgroup_name(spec), spec.limits);
}

// --userns=remap: the user namespace, and the net, uts and ipc namespaces
// it owns, made before the child (11-security/userns.hpp).
std::optional<security::OwnedNamespaces> make_owned_namespaces(const ContainerSpec& spec) {
  if (!spec.security.userns.remapped()) return std::nullopt;
  return security::make_user_namespace(spec.security.userns);
}

// On cgroup v2 the child is born inside CG (clone3, CLONE_INTO_CGROUP) and
// BORN_INSIDE says so; on v1, with no cgroup, or on a kernel before 5.7, it
// is not, and the caller moves it in.
pid_t clone_child(const ContainerSpec& spec, core::Fd& parent_end,
                  const security::OwnedNamespaces* owned,
                  const std::optional<cgroups::Cgroup>& cg, bool& born_inside) {
  int fds[2];
  // SEQPACKET: each report arrives whole. CLOEXEC: the child's end closes
  // when its exec succeeds, which is how the parent learns of that success.
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    throw core::SystemError(errno, "socketpair");
  core::Fd child_end(fds[1]);
  parent_end.reset(fds[0]);
  unsigned long flags = spec.upto >= Upto::namespaces ? ns::clone_flags() : 0;
  // Those the user namespace owns are joined instead, by the child.
  if (owned) flags &= ~(CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  // --network host keeps the host's stack; container:NAME joins another's.
  if (!network::own_namespace(spec.network)) flags &= ~static_cast<unsigned long>(CLONE_NEWNET);
  core::Fd into = cg ? cg->open_for_clone() : core::Fd();
  core::trace::Step step(spec.upto >= Upto::namespaces ? "03-namespaces" : "02-chroot",
                         std::string(flags ? "clone the container's process into new namespaces"
                                           : "fork the container's process (no namespaces)") +
                             (into.valid() ? ", inside its cgroup" : ""));
  std::optional<pid_t> born;
  if (into.valid()) born = ns::clone_process_into(flags, into.get(), cg->dirs().front().string());
  born_inside = born.has_value();
  pid_t pid = born ? *born : ns::clone_process(flags);
  if (pid == 0) {
    parent_end.reset();
    child_side(spec, child_end.release(), owned);
  }
  return pid;
}

void join_cgroup(const std::optional<cgroups::Cgroup>& cg, pid_t pid) {
  if (!cg) return;
  core::trace::Step step("04-cgroups", "move the container's process into its cgroup");
  cg->add_process(pid);
}

// On a bridge network: the container's eth0, plugged in while the child
// still waits for the go, so its command never runs without its network.
// Its namespace is the one the user namespace owns (--userns=remap), or
// the one the child was cloned into.
void plug_network(const ContainerSpec& spec, pid_t pid, const security::OwnedNamespaces* owned) {
  if (spec.endpoint.empty()) return;
  core::Fd netns;
  if (!owned) {
    auto path = "/proc/" + std::to_string(pid) + "/ns/net";
    netns.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!netns.valid()) throw core::SystemError(errno, "open(" + path + ")");
  }
  network::plug(spec.endpoint, owned ? owned->net.get() : netns.get());
}

void release_child(const core::Fd& sync) {
  const char go = 'G';
  if (::write(sync.get(), &go, 1) != 1) throw core::SystemError(errno, "write(sync socket)");
}

// The child either execs (its end of the socket closes: we read nothing) or
// sends one report and exits.
void wait_for_exec(const core::Fd& sync) {
  ChildReport report{};
  ssize_t n;
  do n = ::read(sync.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  if (n == 0) return;
  if (n != static_cast<ssize_t>(sizeof report))
    throw core::Error("the container's process died before it could exec");
  report.message[sizeof report.message - 1] = '\0';
  throw core::Error(report.message, report.exit_code);
}

}  // namespace

// The pty's master side, passed by the child as an SCM_RIGHTS message; or
// the child's error report instead, if it failed before.
core::Fd receive_terminal(const core::Fd& sync) {
  ChildReport report{};
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov {&report, sizeof report};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sync.get(), &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (auto* c = CMSG_FIRSTHDR(&msg); c && c->cmsg_type == SCM_RIGHTS) {
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    return core::Fd(fd);
  }
  if (n != static_cast<ssize_t>(sizeof report))
    throw core::Error("the container's process died before it made its terminal");
  report.message[sizeof report.message - 1] = '\0';
  throw core::Error(report.message, report.exit_code);
}

pid_t start(const ContainerSpec& spec, core::Fd* terminal) {
  CgroupOwner cgroup(create_cgroup(spec));
  auto owned = make_owned_namespaces(spec);
  core::Fd sync;
  // Not born in its cgroup (v1, or a kernel before 5.7): moved in right
  // after clone, while it waits on the sync socket for the go.
  bool born_inside = false;
  ChildOwner child(clone_child(spec, sync, owned ? &*owned : nullptr, cgroup.get(), born_inside));
  if (!born_inside) join_cgroup(cgroup.get(), child.pid());
  plug_network(spec, child.pid(), owned ? &*owned : nullptr);
  release_child(sync);
  if (spec.process.tty && terminal) *terminal = receive_terminal(sync);
  wait_for_exec(sync);
  cgroup.release();
  return child.release();
}

}  // namespace skiff::launch
