// core/error.hpp — the errors skiff reports, and the exit codes they map to.
//
// Lesson: every lesson's "common errors" section. Docker's exit codes are the
// reference: 125 when skiff itself fails, 126 when the command cannot be
// invoked, 127 when it is not found; otherwise the container's own status.
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>

namespace skiff::core {

enum ExitCode : int {
  kExitRuntimeError = 125,   // skiff's own failure (bad flag, no such image…)
  kExitCannotInvoke = 126,   // the command exists but cannot be executed
  kExitNotFound = 127,       // the command does not exist
};

// A failure the user can act on. `what()` is the one line printed after
// "skiff: "; `exit_code()` is what the process exits with.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, int exit_code = kExitRuntimeError)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// A failed system call: names the call with its arguments and keeps errno,
// e.g. "mount(overlay → /c/merged, MS_NODEV): Permission denied".
class SystemError : public std::system_error {
 public:
  SystemError(int err, const std::string& call)
      : std::system_error(err, std::generic_category(), call) {}
  int err() const { return code().value(); }
};

// Wraps the error being handled with what we were doing: crun's
// "outer: inner" style. Keeps the exit code of an Error.
[[noreturn]] void rethrow_with_context(const std::string& doing);

}  // namespace skiff::core
