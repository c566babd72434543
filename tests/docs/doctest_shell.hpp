// tests/docs/doctest_shell.hpp — the one bash process that runs every block
// of a lesson, so that `cd`, shell variables and files carry over from block
// to block exactly as they would for a reader typing along.
//
// How a command is run, and why:
// - its text is written to a file and sourced (`. FILE`) in the shell itself,
//   so multi-line commands and here-documents need no quoting;
// - its stdout and stderr go to a file of their own, so nothing the runner
//   adds (a sentinel, a newline) can end up in what is compared;
// - it reads /dev/null, so a command that reads stdin cannot eat the next
//   control line, and it does not inherit the control pipe;
// - its exit status comes back as one line on fd 3, the control pipe, and
//   a pidfd tells the runner when the shell itself has died.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace skiff::doctest {

struct RunResult {
  enum class End { finished, timed_out, shell_exited };
  End end = End::finished;
  int status = 0;         // the command's exit status, or the shell's
  std::string output;     // stdout and stderr, interleaved as written
  int failed_line = 0;    // sh blocks: the script line that failed, if known
};

class Shell {
 public:
  // Starts `bash --norc --noprofile` in its own process group, in CWD, with
  // ENV; CTL is a private directory for the command and output files.
  Shell(const std::vector<std::string>& env, const std::filesystem::path& cwd,
        const std::filesystem::path& ctl);
  ~Shell();
  Shell(const Shell&) = delete;
  Shell& operator=(const Shell&) = delete;

  // A console command: its status is returned, never fatal to the shell.
  RunResult run_command(const std::string& text, std::chrono::seconds timeout);
  // An sh block under `set -e`: a failing line ends the shell (and so the
  // lesson), which is what set -e means to a reader.
  RunResult run_script(const std::string& text, std::chrono::seconds timeout);
  // Ends the shell and everything left in its process group.
  void stop();

 private:
  RunResult run(const std::string& text, bool script, std::chrono::seconds timeout);
  void send(const std::string& line);
  RunResult wait_status(std::chrono::seconds timeout);
  int reap();

  std::filesystem::path ctl_;
  pid_t pid_ = -1;
  int to_shell_ = -1, from_shell_ = -1, pidfd_ = -1;
  std::string pending_;  // control bytes read but not yet a whole line
  int counter_ = 0;
  std::filesystem::path out_;
};

// Single-quotes S for bash.
std::string shell_quote(const std::string& s);

}  // namespace skiff::doctest
