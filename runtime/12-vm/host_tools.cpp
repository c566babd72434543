// 12-vm/host_tools.cpp — see host_tools.hpp.
#include "12-vm/host_tools.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/fd.hpp"

namespace skiff::vm {

ToolResult run_tool(const std::vector<std::string>& argv, const std::string& cwd) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw core::SystemError(errno, "pipe2");
  core::Fd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw core::SystemError(errno, "fork");
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(write_end.get(), 1) < 0) ::_exit(127);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(127);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  write_end.reset();
  ToolResult result;
  char buf[65536];
  for (ssize_t n; (n = ::read(read_end.get(), buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string run_tool_checked(const std::vector<std::string>& argv, const std::string& what,
                             const std::string& cwd) {
  auto r = run_tool(argv, cwd);
  if (r.code != 0)
    throw core::Error(what + ": " + argv.at(0) + " exited with " + std::to_string(r.code) +
                      (r.code == 127 ? " (is it installed?)" : ""));
  return r.output;
}

}  // namespace skiff::vm
