// launch/process.hpp — the container's first process: who, where, what.
//
// Runs in: the child, after pivot_root, so that /etc/passwd, $PATH and the
//   working directory are the image's, never the host's.
// Man pages: execve(2), setgroups(2), setresuid(2), passwd(5), group(5).
// Lessons: lessons/01-first-container (what `run` runs) and
//   lessons/11-security (users inside the container).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "launch/spec.hpp"

namespace skiff::launch {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;   // supplementary groups from /etc/group
  std::string home = "/";
};

// Resolves -u USER[:GROUP] (names or numbers) against the container's
// passwd and group files, given as text. Docker's rules: "" is root; a number
// with no passwd entry is that uid with gid 0; an unknown name is an error.
// Pure.
Identity resolve_user(const std::string& spec, const std::string& passwd,
                      const std::string& group);

// The text of /etc/passwd or /etc/group as the image has it: "" unless it
// is a regular file; at most 4 MiB of it.
std::string read_account_file(const std::string& path);

// Where the kernel will find ARGV0: itself when it has a '/', otherwise the
// first executable file of that name in PATH. Throws core::Error with exit
// code 127 ("executable file not found in $PATH") or 126. Looks at the
// current root, so call it after pivot_root.

std::string find_executable(const std::string& argv0, const std::string& path_var);

// The value of NAME in a "K=V" list, or "" when absent. Pure.
std::string env_value(const std::vector<std::string>& env, const std::string& name);

// Becomes IDENTITY (groups, then gid, then uid: the order in which each
// call still has the privilege it needs).
void switch_user(const Identity& identity);

// chdir into CWD, creating it first when missing (as Docker does).
void enter_working_dir(const std::string& cwd);

// Marks every descriptor above stderr close-on-exec (close_range(2)), so
// that the command starts with 0, 1 and 2 only. Called by exec.
void close_inherited_fds();

// execve(2). Only returns by throwing (126/127 as Docker maps them).
// With STUB (a sealed copy of skiff-exec-stub, lesson 11) the command is
// exec'd by the stub, which reports a failed execve on REPORT_FD itself.
[[noreturn]] void exec(const std::string& path, const ProcessSpec& process,
                       const std::vector<std::string>& env, int stub = -1, int report_fd = -1);

}  // namespace skiff::launch
