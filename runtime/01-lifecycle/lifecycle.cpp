// 01-lifecycle/lifecycle.cpp — see lifecycle.hpp.
#include "01-lifecycle/lifecycle.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>

#include "04-cgroups/cgroups.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/sys.hpp"
#include "core/trace.hpp"
#include "launch/launch.hpp"

namespace skiff::lifecycle {
namespace {

// What the launcher tells the CLI: the container runs (with this pid), or
// it could not start (with Docker's exit code and the reason).
struct StartReport {
  int started;
  pid_t pid;
  int exit_code;
  char message[1024];
};

void send(int fd, const StartReport& r) { (void)!::write(fd, &r, sizeof r); }

std::string self_dir() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path().string();
}

// The launcher owns no terminal: in a session of its own, a closed terminal
// or a Ctrl-C meant for the CLI never reaches the container.
void detach_from_cli(const launch::ContainerSpec& spec) {
  ::setsid();
  sigset_t all;
  sigemptyset(&all);
  ::sigprocmask(SIG_SETMASK, &all, nullptr);
  if (!spec.process.stdin_open) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::close(null);
  }
}

void record_start(const engine::Store& store, const std::string& id, pid_t pid) {
  engine::ContainerState state;
  state.status = engine::Status::running;
  state.pid = pid;
  state.pid_start_time = engine::process_start_time(pid);
  state.monitor_pid = ::getpid();
  state.monitor_start_time = engine::process_start_time(state.monitor_pid);
  state.started_at = now_rfc3339();
  store.save_state(id, state);
}

void record_failed_start(const engine::Store& store, const engine::ContainerConfig& config,
                         const core::Error& e) {
  // The pipeline undid its own steps; a host mount (--upto chroot) is the
  // one thing made outside it.
  release_resources(config);
  engine::ContainerState state;
  state.exit_code = e.exit_code();
  state.error = e.what();
  store.save_state(config.id, state);
  if (config.auto_remove) store.remove(config.id);
}

// REPORT_FD, when the CLI waits in the foreground, goes on to the monitor:
// it tells the CLI how the container ended, and the CLI records it (see
// monitor_main.cpp). Until this exec it was close-on-exec, so the
// container's own command never inherited it.
[[noreturn]] void become_monitor(const engine::Store& store, const std::string& id, pid_t pid,
                                 int report_fd) {
  auto dir = self_dir();
  std::string monitor = dir + "/skiff-monitor", skiff = dir + "/skiff";
  std::string pid_text = std::to_string(pid), root = store.root().string();
  std::string fd_text = std::to_string(report_fd);
  ::fcntl(report_fd, F_SETFD, 0);
  ::execl(monitor.c_str(), "skiff-monitor", skiff.c_str(), root.c_str(), id.c_str(),
          pid_text.c_str(), fd_text.c_str(), nullptr);
  // No monitor: wait here ourselves rather than leave the container unwatched.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(record_exit(store, id, status));
}

[[noreturn]] void launcher(const engine::Store& store, const engine::ContainerConfig& config,
                           int report_fd) {
  try {
    detach_from_cli(config.spec);
    pid_t pid = launch::start(config.spec);
    record_start(store, config.id, pid);
    send(report_fd, {1, pid, 0, {}});
    become_monitor(store, config.id, pid, report_fd);
  } catch (const std::exception& e) {
    const auto* err = dynamic_cast<const core::Error*>(&e);
    core::Error error = err ? *err : core::Error(e.what());
    StartReport r{0, 0, error.exit_code(), {}};
    std::strncpy(r.message, error.what(), sizeof r.message - 1);
    try {
      record_failed_start(store, config, error);
    } catch (...) {
    }
    send(report_fd, r);
    ::_exit(error.exit_code());
  }
}

// The CLI forwards what it receives to the container, as `docker run` does
// (--sig-proxy): Ctrl-C on a non-terminal run goes to PID 1.
pid_t g_container_pid = 0;
void forward_signal(int sig) {
  if (g_container_pid > 0) ::kill(g_container_pid, sig);
}

void forward_signals_to(pid_t pid) {
  g_container_pid = pid;
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2})
    ::sigaction(sig, &sa, nullptr);
}

}  // namespace

int exit_code_from_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return core::kExitRuntimeError;
}

namespace {

// What the monitor sends when the container has ended: its wait status.
// The CLI records it and answers with one byte; without that answer the
// monitor records it itself (the CLI may have been killed meanwhile).
int receive_exit(int channel, const engine::Store& store, const std::string& id) {
  int status = 0;
  ssize_t n;
  do n = ::read(channel, &status, sizeof status);
  while (n < 0 && errno == EINTR);
  if (n != sizeof status) return -1;
  int code = record_exit(store, id, status);
  const char done = 'R';
  (void)!::write(channel, &done, 1);
  return code;
}

}  // namespace

int run_foreground(const engine::Store& store, const std::string& id) {
  auto config = store.load_config(id);
  int fds[2];
  // SEQPACKET: each message arrives whole; both ways: start report and
  // exit status come up, the "recorded" answer goes down.
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    throw core::SystemError(errno, "socketpair");
  core::Fd cli_end(fds[0]), launcher_end(fds[1]);
  // A reader that goes away (`skiff --explain run … | head`) must not kill
  // the CLI or the launcher half-way through a start or an exit record: a
  // failed write of a trace line is harmless. launch::exec restores the
  // default for the container's command.
  ::signal(SIGPIPE, SIG_IGN);
  std::cout.flush();
  pid_t pid = ::fork();
  if (pid < 0) throw core::SystemError(errno, "fork");
  if (pid == 0) {
    cli_end.reset();
    launcher(store, config, launcher_end.release());
  }
  launcher_end.reset();
  StartReport report{};
  ssize_t n;
  do n = ::read(cli_end.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  int code = -1;
  if (n == sizeof report && report.started) {
    forward_signals_to(report.pid);
    code = receive_exit(cli_end.get(), store, id);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof report) throw core::Error("the container's launcher died before it started");
  if (!report.started) {
    report.message[sizeof report.message - 1] = '\0';
    throw core::Error(report.message, report.exit_code);
  }
  // The monitor recorded the exit itself: its exit status is the code.
  return code >= 0 ? code : exit_code_from_wait_status(status);
}

bool release_resources(const engine::ContainerConfig& config) {
  const auto upto = config.spec.upto;
  if (upto < launch::Upto::namespaces) {
    // No mount namespace: the overlay was mounted on the host, ours to undo.
    core::trace::Step step("02-chroot", "unmount the container's root from the host");
    try {
      core::sys::umount(launch::rootfs_dir(config.spec), MNT_DETACH);
    } catch (const core::SystemError& e) {
      if (e.err() != EINVAL && e.err() != ENOENT) throw;  // not mounted: done
    }
    return false;
  }
  if (upto < launch::Upto::cgroups) return false;  // the namespace took its mounts along
  core::trace::Step step("04-cgroups", "remove the container's cgroup");
  auto cgroup = cgroups::Cgroup::open(cgroups::detect(), launch::cgroup_name(config.spec));
  bool oom = cgroup.oom_killed();
  cgroup.remove();
  return oom;
}

int record_exit(const engine::Store& store, const std::string& id, int wait_status) {
  auto config = store.load_config(id);
  auto state = store.load_state(id);
  state.status = engine::Status::exited;
  state.exit_code = exit_code_from_wait_status(wait_status);
  state.finished_at = now_rfc3339();
  state.pid = 0;
  state.monitor_pid = 0;
  state.monitor_start_time = 0;
  state.oom_killed = release_resources(config);
  // With --rm the record goes at once: no point writing it first.
  if (config.auto_remove)
    store.remove(id);
  else
    store.save_state(id, state);
  return state.exit_code;
}

engine::ContainerState current_state(const engine::Store& store, const std::string& id) {
  auto recorded = store.load_state(id);
  auto seen = engine::observed(recorded);
  if (seen.status == recorded.status) return seen;
  // The monitor died without recording the end (SIGKILL, reboot): record
  // it now, once, and release what the container held.
  seen.finished_at = now_rfc3339();
  seen.monitor_pid = 0;
  try {
    release_resources(store.load_config(id));
  } catch (const std::exception&) {  // best effort: the record matters more
  }
  store.save_state(id, seen);
  return seen;
}

std::string now_rfc3339() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm {};
  ::gmtime_r(&ts.tv_sec, &tm);
  char base[32], nanos[16];
  std::strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(nanos, sizeof nanos, ".%09ld", ts.tv_nsec);
  std::string frac = nanos;
  // Go's RFC3339Nano, which Docker prints, drops trailing zeros.
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  if (frac == ".") frac.clear();
  return std::string(base) + frac + "Z";
}

}  // namespace skiff::lifecycle
