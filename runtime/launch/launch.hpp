// launch/launch.hpp — the pipeline that turns a spec into a running container.
//
// The heart of skiff (DESIGN.md). Two functions tell the whole story, one
// step a line: `start` runs in the parent, `child_side` runs in the cloned
// child between clone and exec. Each step belongs to one module and is
// narrated by `skiff --explain`; `--upto MODULE` stops the pipeline after
// that module's steps.
//
//   parent: create cgroup → clone(new namespaces) → join cgroup → release child
//           → wait until the child has exec'd (or report its error)
//   child:  wait for parent → cgroup namespace → private mounts → overlay rootfs
//           → /proc /dev /sys → /etc/hostname, /etc/hosts → pivot_root
//           → hostname, lo → user, cwd, command → capabilities, no_new_privs → exec
#pragma once

#include <sys/types.h>

#include "core/fd.hpp"
#include "11-security/userns.hpp"
#include "launch/spec.hpp"

namespace skiff::launch {

// Runs the pipeline for SPEC. Returns the host pid of the container's first
// process once it has exec'd the command; that process is a child of the
// caller, which must reap it. On failure nothing is left behind (the child is
// killed and reaped, the cgroup removed) and the child's error is rethrown as
// core::Error with Docker's exit code (125, 126 or 127).
// With spec.process.tty, TERMINAL receives the master side of the pty the
// child made in the container's own devpts (runc's "console socket", done
// over our sync socket).
pid_t start(const ContainerSpec& spec, core::Fd* terminal = nullptr);

// The last steps of the child side, shared with `exec`: resolve PROCESS's
// user, working directory and command inside the container's root, drop
// privileges as SPEC says, and execve. Only returns by throwing.
// USERNS, when not -1, is the container's user namespace (--userns=remap),
// joined first. REPORT_FD, when not -1, is where the exec stub (lesson 11)
// reports a failed execve; without it the command is exec'd directly.
[[noreturn]] void become_process(const ContainerSpec& spec, const ProcessSpec& process, int userns = -1,
                                 int report_fd = -1);

// Makes TERMINAL (a pty's slave side; -1: none) this process's controlling
// terminal and its stdin, stdout and stderr. Shared with `exec -t`.
void take_terminal(int terminal);

// Sends E to the parent over SYNC (a ChildReport) and _exits. For code that
// runs between a fork and an exec, where an exception must not escape.
[[noreturn]] void report_and_exit(int sync, const std::exception& e);

// The child side; never returns (execs the command or _exits with a report
// written to SYNC_FD). Exposed for the pipeline's tests.
// OWNED: the namespaces a remapped container was given (or nullptr).
[[noreturn]] void child_side(const ContainerSpec& spec, int sync_fd,
                             const security::OwnedNamespaces* owned = nullptr);

}  // namespace skiff::launch
