// 11-security/exec_stub.hpp — the container's command is exec'd by a sealed
// copy of a tiny stub, never by skiff's own file (CVE-2019-5736).
//
// Kernel concept: see exec_stub_main.cpp (the stub) and sealed_exe.hpp
//   (the same danger, and the heavier defence kept for `exec` and for
//   kernels that refuse an executable memfd). Before a start, the CLI
//   copies the stub, embedded in skiff when it was built, into a memfd and
//   seals it; the container's first process, a copy of the CLI, inherits
//   it, and its last step is execveat(stub) instead of execve(command).
//   It costs a memfd of under 2 KB and the exec of a program that
//   maps one page: far less than skiff running itself again. It is enough
//   because until the stub runs, the container's first process is alone in
//   its new pid namespace: nothing in the container can open its
//   /proc/PID/exe. `exec` joins a namespace where others run, so it keeps
//   the sealed re-exec; so must a future --pid=container:NAME.
// Man pages: memfd_create(2), fcntl(2) F_ADD_SEALS, execveat(2).
// Runs in: the CLI (run, start, restart) and the container's first process.
// Lesson: lessons/11-security.
#pragma once

#include <string>
#include <vector>

#include "core/fd.hpp"

namespace skiff::security {

// The CLI, before it starts a container: makes the sealed stub this
// process (and the children it clones) will exec through. Where there is
// no stub (not x86-64) or the kernel refuses an executable memfd
// (vm.memfd_noexec=2), re-executes skiff from a read-only view of its
// binary instead (sealed_exe.hpp), so the command is exec'd from that.
void protect_host_binary();

// The sealed stub made by protect_host_binary, or -1 (then the command is
// exec'd directly, from a process that is already sealed).
int exec_stub_fd();

// A sealed memfd holding the stub; invalid where it cannot be made.
core::Fd make_exec_stub();

// The container's last step: execs PATH with ARGV and ENVP through the
// stub STUB, which reports a failed execve on REPORT_FD (left open across
// the first exec for it). Returns only if the stub itself could not be
// run, with errno set.
void exec_through_stub(int stub, int report_fd, const std::string& path, char* const* argv,
                       char* const* envp);

}  // namespace skiff::security
