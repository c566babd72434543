// tests/docs/doctest_shell.cpp — the persistent bash of a lesson; see the
// header for why commands are sourced from files with their own output file.
#include "doctest_shell.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace skiff::doctest {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw std::runtime_error("cannot write " + p.string());
}

// Everything execve needs, built before fork: the child may only call
// async-signal-safe functions, so no allocation happens after the fork.
struct ExecArgs {
  std::vector<std::string> env;
  std::vector<char*> envp;
  std::string log, cwd;
  explicit ExecArgs(const std::vector<std::string>& e) : env(e) {
    for (auto& s : env) envp.push_back(s.data());
    envp.push_back(nullptr);
  }
};

// The child side: its own process group (so a timeout can kill the command
// and everything it started), the pipes on fds 0 and 3, the log on 1 and 2.
[[noreturn]] void exec_bash(ExecArgs& a, int in, int ctl) {
  setpgid(0, 0);
  int log = open(a.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0 || dup2(in, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 || dup2(ctl, 3) < 0 ||
      chdir(a.cwd.c_str()) < 0)
    _exit(126);
  char bash[] = "bash", norc[] = "--norc", noprofile[] = "--noprofile";
  char* argv[] = {bash, norc, noprofile, nullptr};
  execve("/bin/bash", argv, a.envp.data());
  _exit(127);
}

int exit_status(int wstatus) {
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

}  // namespace

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Shell::Shell(const std::vector<std::string>& env, const std::filesystem::path& cwd,
             const std::filesystem::path& ctl)
    : ctl_(ctl) {
  int in[2], back[2];
  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(back, O_CLOEXEC) < 0) throw_errno("pipe2");
  ExecArgs args(env);
  args.log = (ctl / "shell.log").string(), args.cwd = cwd.string();
  pid_ = fork();
  if (pid_ < 0) throw_errno("fork");
  if (pid_ == 0) exec_bash(args, in[0], back[1]);
  setpgid(pid_, pid_);  // also here: no race with a kill before the child ran
  close(in[0]), close(back[1]);
  to_shell_ = in[1], from_shell_ = back[0];
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd_ < 0) throw_errno("pidfd_open");
  // The ERR trap records the line of the last failing command: under set -e
  // it is the line that ended an sh block (LINENO counts inside the sourced
  // file). A function keeps the quoting of the path simple.
  send("__skiff_failed() { printf '%s\\n' \"$1\" >" + shell_quote((ctl / "failed-line").string()) +
       "; }\ntrap '__skiff_failed \"$LINENO\"' ERR\n");
}

Shell::~Shell() {
  stop();
  for (int fd : {to_shell_, from_shell_, pidfd_})
    if (fd >= 0) close(fd);
}

RunResult Shell::run_command(const std::string& text, std::chrono::seconds timeout) {
  return run(text, false, timeout);
}

RunResult Shell::run_script(const std::string& text, std::chrono::seconds timeout) {
  return run(text, true, timeout);
}

RunResult Shell::run(const std::string& text, bool script, std::chrono::seconds timeout) {
  std::string n = std::to_string(++counter_);
  auto cmd = ctl_ / ("cmd-" + n + ".sh"), failed = ctl_ / "failed-line";
  out_ = ctl_ / ("out-" + n);
  write_file(cmd, text + "\n");
  std::filesystem::remove(failed);
  std::string source =
      ". " + shell_quote(cmd.string()) + " </dev/null >" + shell_quote(out_.string()) + " 2>&1 3>&-";
  // set -e is turned on in the shell itself, not a subshell, so that an sh
  // block's `cd` and variables still carry over to the next block.
  send(script ? "set -e; " + source + "; set +e; echo 0 >&3\n" : source + "; echo \"$?\" >&3\n");
  RunResult r = wait_status(timeout);
  r.output = read_file(out_);
  if (script && r.end == RunResult::End::shell_exited) {
    std::string line = read_file(failed);
    r.failed_line = line.empty() ? 0 : std::atoi(line.c_str());
  }
  return r;
}

void Shell::send(const std::string& line) {
  // A dead shell shows up in wait_status (its pidfd); EPIPE here is ignored.
  for (size_t done = 0; done < line.size();) {
    ssize_t n = write(to_shell_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Waits for the status line on the control pipe, the shell's death, or the
// deadline, whichever comes first.
RunResult Shell::wait_status(std::chrono::seconds timeout) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + timeout;
  bool eof = false;
  for (;;) {
    if (size_t nl = pending_.find('\n'); nl != std::string::npos) {
      RunResult r{RunResult::End::finished, std::atoi(pending_.c_str()), "", 0};
      pending_.erase(0, nl + 1);
      return r;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return {RunResult::End::timed_out, reap(), "", 0};
    pollfd fds[2] = {{eof ? -1 : from_shell_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(left.count())) < 0) {
      if (errno == EINTR) continue;
      throw_errno("poll");
    }
    if (fds[0].revents) {
      char buf[256];
      ssize_t n = read(from_shell_, buf, sizeof buf);
      if (n > 0) pending_.append(buf, static_cast<size_t>(n));
      eof = n == 0;
    } else if (fds[1].revents) {
      return {RunResult::End::shell_exited, reap(), "", 0};
    }
  }
}

// Kills whatever is left in the shell's process group (background jobs, a
// command that timed out), then collects the shell's status. The group is
// killed first, while the unreaped shell still holds its id.
int Shell::reap() {
  if (pid_ < 0) return -1;
  kill(-pid_, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid_, &wstatus, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return exit_status(wstatus);
}

void Shell::stop() {
  if (pid_ < 0) return;
  close(to_shell_);  // end of input: bash exits by itself
  to_shell_ = -1;
  pollfd fd{pidfd_, POLLIN, 0};
  poll(&fd, 1, 10'000);
  reap();
}

}  // namespace skiff::doctest
