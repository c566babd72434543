// 01-lifecycle/exec.hpp — `skiff exec`: one more process in a running container.
//
// Kernel concept: setns(2) moves the calling process into an existing
//   namespace, named by a file in /proc/PID/ns/. A process joins the
//   container's cgroup by writing its pid to cgroup.procs, like PID 1 did.
//   A pid namespace is special: setns only decides where the caller's
//   *children* will live, so exec forks once more after joining.
// Man pages: setns(2), nsenter(1), namespaces(7).
// Runs in: a child of the CLI (then its child, in the pid namespace).
// Privilege: CAP_SYS_ADMIN (setns), dropped to the container's set before exec.
// Lesson: lessons/01-first-container, lessons/03-namespaces (nsenter).
#pragma once

#include <string>

#include "engine/store.hpp"

namespace skiff::lifecycle {

struct ExecRequest {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // added to (and overriding) the container's
  std::string cwd;               // "" = the container's working directory
  std::string user;              // "" = the container's user
  bool stdin_open = false;       // -i
  bool tty = false;              // -t: a pty of its own, relayed to ours
  bool detach = false;           // -d: start it and return
};

// Runs REQUEST in the running container ID, stdout and stderr passed
// through; returns its exit code (126/127 as Docker when it cannot run).
// Throws core::Error (exit 1) when the container is not running.
int exec(const engine::Store& store, const std::string& id, const ExecRequest& request);

}  // namespace skiff::lifecycle
