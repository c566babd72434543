// 01-lifecycle/exec.cpp — see exec.hpp.
#include "01-lifecycle/exec.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "01-lifecycle/attach.hpp"
#include "01-lifecycle/lifecycle.hpp"
#include "04-cgroups/cgroups.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/in_root.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"
#include "launch/launch.hpp"
#include "launch/report.hpp"

namespace skiff::lifecycle {
namespace {

// The container's namespaces, in the order we join them: the mount
// namespace last, because joining it also moves our root directory, and the
// other /proc/PID/ns files must be opened before that.
struct Namespace {
  const char* file;
  int type;
};
constexpr Namespace kNamespaces[] = {{"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},
                                     {"uts", CLONE_NEWUTS},       {"net", CLONE_NEWNET},
                                     {"pid", CLONE_NEWPID},       {"mnt", CLONE_NEWNS}};

// Returns the container's user namespace when it has one of its own
// (--userns=remap): joined last, by become_process, once every other
// namespace is joined as the host's root (lesson 11).
core::Fd join_namespaces(pid_t pid, bool remapped) {
  core::trace::Step step("03-namespaces", "join the container's namespaces (setns)");
  std::string dir = "/proc/" + std::to_string(pid) + "/ns/";
  std::vector<core::Fd> fds;
  for (const auto& ns : kNamespaces) fds.emplace_back(core::sys::open(dir + ns.file, O_RDONLY));
  core::Fd user = remapped ? core::Fd(core::sys::open(dir + "user", O_RDONLY)) : core::Fd();
  for (size_t i = 0; i < fds.size(); ++i)
    core::sys::setns(fds[i].get(), kNamespaces[i].type, kNamespaces[i].file);
  return user;
}

launch::ProcessSpec process_for(const engine::ContainerConfig& c, const ExecRequest& r) {
  launch::ProcessSpec p = c.spec.process;
  p.argv = r.argv;
  for (const auto& kv : r.env) {
    auto name = kv.substr(0, kv.find('='));
    std::erase_if(p.env, [&](const std::string& e) { return e.rfind(name + "=", 0) == 0; });
    p.env.push_back(kv);
  }
  if (!r.cwd.empty()) p.cwd = r.cwd;
  if (!r.user.empty()) p.user = r.user;
  p.stdin_open = r.stdin_open;
  return p;
}

// In the container's namespaces: fork into its pid namespace, then become
// the command there. The intermediate process then leaves at once, so it
// counts neither against the container's pids limit nor as a process in
// its cgroup; the CLI, a child subreaper, inherits and reaps the command.
[[noreturn]] void enter_and_run(const engine::ContainerConfig& config, pid_t pid,
                                const launch::ProcessSpec& process, int sync, int terminal) {
  try {
    // Until it execs, this process holds the host's descriptors and runs
    // skiff's code; once in the container's pid namespace its processes
    // could reach it through /proc/PID (its fds, its memory, its exe).
    // Not dumpable: only a holder of CAP_SYS_PTRACE can, and the container
    // has none. execve makes the command dumpable again.
    core::sys::prctl(PR_SET_DUMPABLE, 0, "PR_SET_DUMPABLE, 0");
    if (config.spec.upto >= launch::Upto::cgroups) {
      core::trace::Step step("04-cgroups", "join the container's cgroup");
      cgroups::Cgroup::open(cgroups::detect(), launch::cgroup_name(config.spec))
          .add_process(::getpid());
    }
    core::Fd user = join_namespaces(pid, config.spec.security.userns.remapped());
    pid_t child = ::fork();
    if (child < 0) throw core::SystemError(errno, "fork");
    if (child == 0) {
      launch::take_terminal(terminal);
      launch::become_process(config.spec, process, user.valid() ? user.get() : -1);
    }
    ::_exit(0);
  } catch (const std::exception& e) {
    launch::report_and_exit(sync, e);
  }
}

}  // namespace

int exec(const engine::Store& store, const std::string& id, const ExecRequest& request) {
  auto config = store.load_config(id);
  auto state = current_state(store, id);
  if (state.status != engine::Status::running)
    throw core::Error("container " + id + " is not running", 1);
  // A process that joins a frozen cgroup freezes too: Docker refuses.
  if (state.paused)
    throw core::Error("container " + id + " is paused, unpause the container before exec", 1);
  if (config.spec.upto < launch::Upto::namespaces)
    throw core::Error("exec needs the container's namespaces; this one runs --upto chroot", 1);
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    throw core::SystemError(errno, "socketpair");
  core::Fd parent_end(fds[0]), child_end(fds[1]);
  auto process = process_for(config, request);
  // The command will be our grandchild; as a subreaper we become its parent
  // when the process in between exits, and can wait for it.
  core::sys::prctl(PR_SET_CHILD_SUBREAPER, 1, "PR_SET_CHILD_SUBREAPER, 1");
  core::Fd master, slave;
  if (request.tty) {
    if (process.env.end() == std::find_if(process.env.begin(), process.env.end(), [](auto& e) {
          return e.rfind("TERM=", 0) == 0;
        }))
      process.env.push_back("TERM=xterm");
    // A pty of the container's own devpts (reached through its root as
    // /proc/PID/root, and looked up inside it: the container owns the
    // names there), so that inside, `tty` names it /dev/pts/N.
    core::Fd root = core::open_root("/proc/" + std::to_string(state.pid) + "/root");
    core::Fd pts = core::resolve_in_root(root.get(), "/dev/pts", core::Create::nothing,
                                         core::Symlinks::refuse);
    master.reset(::openat(pts.get(), "ptmx", O_RDWR | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
    if (!master.valid()) throw core::SystemError(errno, "open(/dev/pts/ptmx of the container)");
    int unlock = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) < 0) throw core::SystemError(errno, "ioctl(TIOCSPTLCK)");
    slave.reset(::ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!slave.valid()) throw core::SystemError(errno, "ioctl(TIOCGPTPEER)");
  }
  pid_t pid = ::fork();
  if (pid < 0) throw core::SystemError(errno, "fork");
  if (pid == 0) {
    parent_end.reset();
    master.reset();
    if (request.detach) {
      // Nobody reads a detached process's output (as with docker exec -d),
      // and it must not keep the caller's pipes open.
      core::Fd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
      for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null.get(), fd);
    } else if (!request.stdin_open && !request.tty) {
      core::Fd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
      ::dup2(null.get(), STDIN_FILENO);
    }
    enter_and_run(config, state.pid, process, child_end.release(), slave.valid() ? slave.get() : -1);
  }
  child_end.reset();
  slave.reset();
  launch::ChildReport report{};
  ssize_t n;
  do n = ::read(parent_end.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == sizeof report) {
    report.message[sizeof report.message - 1] = '\0';
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {  // a half-made grandchild
    }
    throw core::Error(report.message, report.exit_code);
  }
  if (n != 0 || exit_code_from_wait_status(status) != 0)
    throw core::Error("exec: the process that joins the container died", core::kExitRuntimeError);
  if (request.detach) return 0;  // its namespace's PID 1 adopts it when we exit
  if (master.valid()) relay_terminal(master.get());
  // The command, reparented to us: its status is ours.
  while (::waitpid(-1, &status, 0) < 0) {
    if (errno != EINTR) throw core::SystemError(errno, "waitpid");
  }
  return exit_code_from_wait_status(status);
}

}  // namespace skiff::lifecycle
