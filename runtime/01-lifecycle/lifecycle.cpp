// 01-lifecycle/lifecycle.cpp — see lifecycle.hpp.
#include "01-lifecycle/lifecycle.hpp"
#include "01-lifecycle/attach.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>
#include <cstring>
#include <optional>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <vector>

#include "04-cgroups/cgroups.hpp"
#include "07-network/bridge.hpp"
#include "11-security/sealed_exe.hpp"
#include "core/error.hpp"
#include "core/fd.hpp"
#include "core/fs.hpp"
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

// Where skiff-monitor is: beside skiff. Not /proc/self/exe's directory,
// which names the read-only view skiff runs from (11-security).
std::string self_dir() { return security::host_binary_dir().string(); }

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

void record_start(const engine::Store& store, const std::string& id, pid_t pid,
                  const network::Endpoint& endpoint) {
  engine::ContainerState state;
  state.status = engine::Status::running;
  state.endpoint = endpoint;
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
  release_resources(store, config);
  engine::ContainerState state;
  state.exit_code = e.exit_code();
  state.error = e.what();
  store.save_state(config.id, state);
  if (config.auto_remove) store.remove(config.id);
}

// What a detached container's monitor serves: the container's output (two
// pipes, or the master side of its pty with -t, which the container's
// process makes in its own devpts and hands over) and the attach socket.
struct Output {
  core::Fd out, err;  // err is unused with a pty: one stream, like a terminal
  core::Fd attach;    // listening socket for `skiff attach`
};

Output redirect_output_to_pipes() {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0)
    throw core::SystemError(errno, "pipe2");
  // dup2 clears close-on-exec on 1 and 2: the container inherits them.
  ::dup2(out[1], STDOUT_FILENO);
  ::dup2(err[1], STDERR_FILENO);
  ::close(out[1]);
  ::close(err[1]);
  Output o;
  o.out.reset(out[0]);
  o.err.reset(err[0]);
  return o;
}

core::Fd listen_for_attach(const std::string& id) {
  auto path = attach_socket_path(id);
  core::fs::make_dirs(std::filesystem::path(path).parent_path(), std::filesystem::perms::owner_all);
  ::unlink(path.c_str());
  core::Fd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (!sock.valid() || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 ||
      ::listen(sock.get(), 16) < 0)
    throw core::SystemError(errno, "listen on " + path);
  return sock;
}

std::string fd_arg(const core::Fd& fd) { return fd.valid() ? std::to_string(fd.get()) : "-"; }

// CLI_FD, when a CLI waits in the foreground, and the output and attach
// fds, for a detached container, go on to the monitor (see
// monitor_main.cpp). Until this exec they were close-on-exec, so the
// container's own command never inherited them.
[[noreturn]] void become_monitor(const engine::Store& store, const std::string& id, pid_t pid,
                                 core::Fd cli, Output output) {
  auto dir = self_dir();
  std::string monitor = dir + "/skiff-monitor", skiff = dir + "/skiff";
  std::string log = (store.container_dir(id) / "log").string();
  std::vector<std::string> args = {"skiff-monitor", skiff, store.root().string(), id,
                                   std::to_string(pid), fd_arg(cli), fd_arg(output.out),
                                   fd_arg(output.err), log, fd_arg(output.attach)};
  for (const core::Fd* fd : {&cli, &output.out, &output.err, &output.attach})
    if (fd->valid()) ::fcntl(fd->get(), F_SETFD, 0);
  if (output.out.valid()) {
    // Our own copies of the pipes' write ends must go, or the monitor would
    // wait forever for an end of file that only the container should cause.
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::close(null);
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(monitor.c_str(), argv.data());
  // No monitor: wait here ourselves rather than leave the container unwatched.
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::_exit(record_exit(store, id, status));
}

// --network container:NAME: the other container's PID 1, looked up at each
// start (it may have been restarted since this one was created).
launch::ContainerSpec with_network_peer(const engine::Store& store, launch::ContainerSpec spec) {
  if (spec.network.kind != network::Kind::container) return spec;
  const auto& peer = spec.network.container;
  engine::ContainerState state;
  try {
    state = engine::observed(store.load_state(peer));
  } catch (const std::exception&) {  // removed since: not running either
  }
  if (state.status != engine::Status::running || state.paused)
    throw core::Error("cannot join network of a non running container: " + peer);
  spec.network_pid = state.pid;
  spec.network_pid_start = state.pid_start_time;
  return spec;
}

[[noreturn]] void launcher(const engine::Store& store, const engine::ContainerConfig& config,
                           int report_fd, bool detached, bool cli_waits) {
  try {
    detach_from_cli(config.spec);
    Output output;
    if (detached) {
      if (!config.spec.process.tty) output = redirect_output_to_pipes();
      output.attach = listen_for_attach(config.id);
    }
    auto spec = with_network_peer(store, config.spec);
    spec.disposable_root = config.auto_remove;
    pid_t pid = launch::start(spec, &output.out);  // with -t: the pty's master side
    record_start(store, config.id, pid, spec.endpoint);
    send(report_fd, {1, pid, 0, {}});
    core::Fd cli(report_fd);
    if (!cli_waits) cli.reset();
    become_monitor(store, config.id, pid, std::move(cli), std::move(output));
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

namespace {

// Forks the launcher and reads its start report. Throws the reason when the
// container could not start (after reaping the launcher).
struct Launched {
  pid_t launcher;
  pid_t container;
  core::Fd channel;
};

// On a bridge network, at each start: an address, and the container's
// /etc/hosts (its own name on that address, as Docker writes it) and
// /etc/resolv.conf to go with it.
void join_bridge(const engine::Store& store, engine::ContainerConfig& config) {
  if (config.spec.network.kind != network::Kind::bridge) return;
  auto& endpoint = config.spec.endpoint;
  endpoint = network::prepare_endpoint(networks_dir(store), config.id);
  try {
    const auto& dir = config.spec.dir;
    core::fs::write_file_atomic(
        dir / "hosts", network::hosts_with_address(core::fs::read_file_if_exists(dir / "hosts").value_or(""),
                                                   config.spec.hostname, endpoint.iface.address));
    core::fs::write_file_atomic(dir / "resolv.conf", network::resolv_conf_for_bridge(
                                                         core::fs::read_file_if_exists("/etc/resolv.conf").value_or("")));
  } catch (...) {
    network::release_endpoint(networks_dir(store), config.id);
    throw;
  }
}

Launched launch_container(const engine::Store& store, const std::string& id, bool detached,
                          bool cli_waits) {
  auto config = store.load_config(id);
  join_bridge(store, config);
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
  if (pid < 0) {
    int err = errno;
    release_resources(store, config);
    throw core::SystemError(err, "fork");
  }
  if (pid == 0) {
    cli_end.reset();
    launcher(store, config, launcher_end.release(), detached, cli_waits);
  }
  launcher_end.reset();
  StartReport report{};
  ssize_t n;
  do n = ::read(cli_end.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  if (n == sizeof report && report.started) return {pid, report.pid, std::move(cli_end)};
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  if (n != sizeof report) throw core::Error("the container's launcher died before it started");
  report.message[sizeof report.message - 1] = '\0';
  throw core::Error(report.message, report.exit_code);
}

}  // namespace

int run_foreground(const engine::Store& store, const std::string& id) {
  auto launched = launch_container(store, id, false, true);
  forward_signals_to(launched.container);
  int code = receive_exit(launched.channel.get(), store, id);
  int status = 0;
  while (::waitpid(launched.launcher, &status, 0) < 0 && errno == EINTR) {
  }
  // The monitor recorded the exit itself: its exit status is the code.
  return code >= 0 ? code : exit_code_from_wait_status(status);
}

void run_detached(const engine::Store& store, const std::string& id) {
  // The launcher goes on as the monitor; once we exit, init adopts it.
  launch_container(store, id, true, false);
}

int run_attached(const engine::Store& store, const std::string& id, const AttachOptions& options) {
  // Detached as far as the container is concerned (the monitor serves its
  // terminal), but this CLI waits, and records the exit if it is still here.
  auto launched = launch_container(store, id, true, true);
  auto config = store.load_config(id);
  if (attach(attach_socket_path(id), config.spec.process.tty, options) == AttachEnd::detached) {
    print_detached(config.name);
    return 0;
  }
  int code = receive_exit(launched.channel.get(), store, id);
  int status = 0;
  while (::waitpid(launched.launcher, &status, 0) < 0 && errno == EINTR) {
  }
  return code >= 0 ? code : exit_code_from_wait_status(status);
}

void print_detached(const std::string& name) {
  std::cerr << "\r\nskiff: detached from " << name << " (it goes on running; skiff attach "
            << name << " comes back)\r\n";
}

std::filesystem::path networks_dir(const engine::Store& store) { return store.root() / "networks"; }

bool release_resources(const engine::Store& store, const engine::ContainerConfig& config) {
  // One table, one step per module, run in this order on every way out (the
  // container's exit, a failed start, a dead monitor, rm -f). Each step
  // takes a half-made or already-undone state as done, so the table is safe
  // to run twice; each runs even when one before failed, and the first
  // failure is reported after all have run.
  const auto& spec = config.spec;
  bool oom = false;
  struct Teardown {
    const char* module;
    const char* lesson;  // the one --explain names: the module's own unless told
    const char* what;
    bool applies;
    std::function<void()> undo;
  };
  const Teardown steps[] = {
      {"01-lifecycle", nullptr, "remove the attach socket", true,
       [&] { ::unlink(attach_socket_path(config.id).c_str()); }},
      // No mount namespace: the overlay was mounted on the host, ours to undo.
      {"02-chroot", nullptr, "unmount the container's root from the host", spec.upto < launch::Upto::namespaces,
       [&] {
         try {
           core::sys::umount(launch::rootfs_dir(spec), MNT_DETACH);
         } catch (const core::SystemError& e) {
           if (e.err() != EINVAL && e.err() != ENOENT) throw;  // not mounted: done
         }
       }},
      {"07-network", "08-bridge", "free the container's address (and its veth, if it outlived the namespace)",
       spec.network.kind == network::Kind::bridge && spec.upto >= launch::Upto::namespaces,
       [&] { network::release_endpoint(networks_dir(store), config.id); }},
      {"04-cgroups", nullptr, "remove the container's cgroup", spec.upto >= launch::Upto::cgroups,
       [&] {
         auto cgroup = cgroups::Cgroup::open(cgroups::detect(), launch::cgroup_name(spec));
         oom = cgroup.oom_killed();
         cgroup.remove();
       }},
  };
  std::exception_ptr first;
  for (const auto& step : steps) {
    if (!step.applies) continue;
    try {
      auto traced = step.lesson ? core::trace::Step(step.module, step.what, step.lesson)
                                : core::trace::Step(step.module, step.what);
      step.undo();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
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
  state.paused = false;
  state.oom_killed = release_resources(store, config);
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
    release_resources(store, store.load_config(id));
  } catch (const std::exception&) {  // best effort: the record matters more
  }
  store.save_state(id, seen);
  return seen;
}

namespace {

// Polls the record until the container is no longer running, for at most
// LIMIT (forever without one). Returns whether it stopped.
bool wait_until_not_running(const engine::Store& store, const std::string& id,
                            std::optional<std::chrono::milliseconds> limit = std::nullopt) {
  auto deadline = std::chrono::steady_clock::now() + limit.value_or(std::chrono::milliseconds(0));
  engine::ContainerState last;
  // A --rm container disappears as it stops: gone counts as stopped.
  while (std::filesystem::exists(store.container_dir(id))) {
    try {
      last = current_state(store, id);
    } catch (const std::exception&) {
      continue;  // removed between the two looks
    }
    if (last.status != engine::Status::running) return true;
    if (limit && std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Gone: its monitor (now `skiff _exited`) is still removing what the
  // container had (record, cgroup, anonymous volumes). Wait for it, briefly,
  // so that what the user runs next sees none of it.
  for (int i = 0; i < 500 && last.monitor_pid > 0 &&
                  engine::process_alive(last.monitor_pid, last.monitor_start_time);
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return true;
}

}  // namespace

void stop(const engine::Store& store, const std::string& id, int timeout_seconds) {
  // PID 1 ignores signals it has no handler for (busybox sh does, for
  // SIGTERM): then only SIGKILL, after the grace period, ends it. Each step
  // may find the container already gone: that is success.
  auto signal_if_running = [&](int sig) {
    if (current_state(store, id).status != engine::Status::running) return false;
    kill(store, id, sig);
    return true;
  };
  if (!signal_if_running(SIGTERM)) return;
  // -t 0: no grace period (a zero limit would mean "wait forever" below).
  if (timeout_seconds > 0 &&
      wait_until_not_running(store, id, std::chrono::seconds(timeout_seconds)))
    return;
  if (!signal_if_running(SIGKILL)) return;
  if (!wait_until_not_running(store, id, std::chrono::seconds(10)))
    throw core::Error("container " + id.substr(0, 12) + " did not stop after SIGKILL");
}

void kill(const engine::Store& store, const std::string& id, int signal) {
  auto state = current_state(store, id);
  if (state.status != engine::Status::running)
    throw core::Error("cannot kill container: " + id.substr(0, 12) + ": container " + id +
                          " is not running",
                      1);
  if (::kill(state.pid, signal) < 0)
    throw core::SystemError(errno, "kill(" + std::to_string(state.pid) + ")");
  // A frozen process receives nothing until it is thawed: Docker thaws a
  // paused container it signals.
  if (state.paused) {
    try {
      set_paused(store, id, false);
    } catch (const core::Error&) {  // it ended meanwhile: nothing left to thaw
    }
  }
}

void set_paused(const engine::Store& store, const std::string& id, bool paused) {
  auto config = store.load_config(id);
  auto state = current_state(store, id);
  if (state.status != engine::Status::running)
    throw core::Error("container " + id + " is not running", 1);
  if (state.paused == paused)
    throw core::Error("container " + id + (paused ? " is already paused" : " is not paused"), 1);
  if (config.spec.upto < launch::Upto::cgroups)
    throw core::Error("pause needs the container's cgroup; this one runs --upto " +
                          launch::upto_name(config.spec.upto),
                      1);
  core::trace::Step step("04-cgroups", paused ? "freeze the container's cgroup"
                                              : "thaw the container's cgroup");
  cgroups::Cgroup::open(cgroups::detect(), launch::cgroup_name(config.spec)).freeze(paused);
  state.paused = paused;
  store.save_state(id, state);
}

int wait_exit(const engine::Store& store, const std::string& id) {
  wait_until_not_running(store, id);
  return current_state(store, id).exit_code;
}

std::string attach_socket_path(const std::string& id) {
  // Sockets die with the machine: /run, not the store (DESIGN.md). The
  // whole id keeps stores apart; the path stays under the 108-byte limit.
  return "/run/skiff/" + id + ".sock";
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
