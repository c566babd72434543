// 01-lifecycle/lifecycle.hpp — starting a container and seeing it end.
//
// The process model (DESIGN.md): no daemon. For each container,
//
//   skiff (CLI) ──fork──▶ launcher ──clone──▶ container PID 1
//                            │ exec
//                            ▼
//                        skiff-monitor  (waits for PID 1, tiny, stays resident)
//                            │ exec, once PID 1 has exited
//                            ▼
//                        skiff _exited  (records the exit, removes the cgroup)
//
// The launcher and the monitor are one process, in a session of its own, so
// closing the terminal or killing the CLI never kills the container. The CLI
// is only a client: in the foreground it waits for that process and exits
// with the container's status, forwarding the signals it receives.
// Lesson: lessons/01-first-container.
#pragma once

#include <string>

#include "01-lifecycle/attach.hpp"
#include "engine/store.hpp"

namespace skiff::lifecycle {

// Starts the container ID of STORE and waits for it to end. Returns the
// exit code `skiff run` exits with: the container's own status, 128+N when
// a signal N ended it, or 125/126/127 when it could not start (after
// printing why on stderr).
int run_foreground(const engine::Store& store, const std::string& id);

// Starts the container ID of STORE in the background (`run -d`, `start`):
// returns once its command runs. Its output goes to the container's log.
// Throws core::Error (125/126/127) when it cannot start.
void run_detached(const engine::Store& store, const std::string& id);

// `run -it`, `run -t`: starts the container with its output served by the
// monitor, attaches this terminal to it, and returns its exit code — or 0
// when the user detached (Ctrl-p Ctrl-q), leaving it running.
int run_attached(const engine::Store& store, const std::string& id, const AttachOptions& options);

// "skiff: detached from NAME …", on stderr, as a terminal in raw mode wants it.
void print_detached(const std::string& name);

// `skiff _exited ID STATUS`, exec'd by the monitor: records how the
// container ended, removes its cgroup and, with --rm, the container. Returns
// the exit code in Docker's convention.
int record_exit(const engine::Store& store, const std::string& id, int wait_status);

// Sends SIGTERM to the container's PID 1, then SIGKILL after TIMEOUT
// seconds, and returns once the exit is recorded. A container that is not
// running is left as it is (Docker's `stop` succeeds on it too).
void stop(const engine::Store& store, const std::string& id, int timeout_seconds);

// Sends SIGNAL to the container's PID 1. Throws core::Error (exit 1) when
// the container is not running.
void kill(const engine::Store& store, const std::string& id, int signal);

// Freezes (pause) or thaws (unpause) every process of the container through
// its cgroup, and records it. Throws core::Error (exit 1) when the container
// is not running, or already in that state.
void set_paused(const engine::Store& store, const std::string& id, bool paused);

// Blocks until the container is no longer running; returns its exit code.
int wait_exit(const engine::Store& store, const std::string& id);

// Takes down what a container held on the host: its attach socket, its
// host mount (--upto chroot), its address on a bridge network, its cgroup.
// Returns whether the OOM killer struck. Each part may already be gone;
// safe to call more than once.
bool release_resources(const engine::Store& store, const engine::ContainerConfig& config);

// Where the store keeps its networks: ROOT/networks (07-network/bridge.hpp).
std::filesystem::path networks_dir(const engine::Store& store);

// The container's state as it really is: the record, corrected (and the
// correction saved, the cgroup released) when it says "running" but neither
// the container nor its monitor is alive any more.
engine::ContainerState current_state(const engine::Store& store, const std::string& id);

// Docker's exit code for a waitpid(2) status: the code, or 128 + signal.
int exit_code_from_wait_status(int wait_status);

// Where a detached container's monitor listens for `skiff attach`.
std::string attach_socket_path(const std::string& id);

// The current time as Docker prints it: RFC 3339, nanoseconds, UTC.
std::string now_rfc3339();

}  // namespace skiff::lifecycle
