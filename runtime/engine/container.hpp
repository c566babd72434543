// engine/container.hpp — a container's record: what was asked, what happened.
//
// Two files per container, both JSON, both written atomically:
//   config.json  the request — image, command, limits — fixed at create time
//   state.json   what happened — status, pid, exit code — rewritten as it runs
// `ps` and `inspect` read only these (and check liveness against the kernel):
// the state on disk is the truth, there is no daemon holding it in memory.
// Lesson: lessons/01-first-container.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "launch/spec.hpp"

namespace skiff::engine {

struct ContainerConfig {
  std::string id;                   // 64 hex digits
  std::string name;                 // without Docker's leading '/'
  std::string created;              // RFC 3339 with nanoseconds, UTC
  std::string image;                // as the user typed it: "busybox"
  std::string image_id;             // "sha256:…"
  std::vector<std::string> entrypoint;  // Config.Entrypoint
  std::vector<std::string> cmd;         // Config.Cmd
  std::vector<std::string> env;         // Config.Env (image + -e + --env-file)
  std::string working_dir;
  std::string user;
  bool auto_remove = false;             // --rm
  launch::ContainerSpec spec;           // what the pipeline runs
};

enum class Status { created, running, exited };

struct ContainerState {
  Status status = Status::created;
  pid_t pid = 0;                   // the container's PID 1, as the host sees it
  uint64_t pid_start_time = 0;     // /proc/PID/stat field 22: pids are reused,
                                   // a pid plus its start time is not
  pid_t monitor_pid = 0;
  uint64_t monitor_start_time = 0;
  bool paused = false;             // frozen by `pause` (still "running")
  int exit_code = 0;
  bool oom_killed = false;
  std::string error;               // why it could not start, if it could not
  std::string started_at = "0001-01-01T00:00:00Z";
  std::string finished_at = "0001-01-01T00:00:00Z";
  network::Endpoint endpoint;      // on a bridge, while it runs: its address
};

std::string to_string(Status s);  // "created", "running", "exited"

void to_json(nlohmann::json& j, const ContainerConfig& c);
void from_json(const nlohmann::json& j, ContainerConfig& c);
void to_json(nlohmann::json& j, const ContainerState& s);
void from_json(const nlohmann::json& j, ContainerState& s);

// The start time of PID from /proc (0 if it is gone): with it, a recorded
// pid can be told apart from a new process that reused the number.
uint64_t process_start_time(pid_t pid);
// True when the recorded process still exists and is the same process.
bool process_alive(pid_t pid, uint64_t start_time);

// STATE corrected by what the kernel says: a record that says "running"
// while neither the container's process nor its monitor exists (the monitor
// was SIGKILLed, the machine rebooted) is shown as exited with code 255,
// never as "Up".
ContainerState observed(ContainerState state);

}  // namespace skiff::engine
