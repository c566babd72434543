// tests/unit/test_exec_stub.cpp — the sealed memfds of lesson 11: the exec
// stub skiff embeds, and the sealed copy of a binary. Both must refuse
// every write, and both must still run. No root needed.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <string>

#include "11-security/exec_stub.hpp"
#include "11-security/sealed_exe.hpp"

namespace security = skiff::security;

namespace {

// Runs FD (an executable memfd) with ARGS, stdout and stderr to a pipe;
// returns the exit status and what it printed.
std::pair<int, std::string> run_fd(int fd, std::vector<std::string> args) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    char* envp[] = {nullptr};
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    ::execve(path.c_str(), argv.data(), envp);
    ::_exit(99);
  }
  ::close(out[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
}

void check_sealed(int fd) {
  int seals = ::fcntl(fd, F_GET_SEALS);
  CHECK((seals & F_SEAL_WRITE) != 0);
  CHECK((seals & F_SEAL_SEAL) != 0);
  CHECK(::pwrite(fd, "x", 1, 0) < 0);
  CHECK(errno == EPERM);
  CHECK(::ftruncate(fd, 0) < 0);
}

}  // namespace

TEST_CASE("the exec stub is a sealed memfd that runs, and refuses to be a command") {
  auto stub = security::make_exec_stub();
#if !defined(__x86_64__)
  WARN("no exec stub on this architecture: skiff re-executes itself instead");
  CHECK_FALSE(stub.valid());
  return;
#endif
  REQUIRE(stub.valid());
  check_sealed(stub.get());
  auto [code, text] = run_fd(stub.get(), {"/proc/self/exe", "/evil"});
  CHECK(code == 127);
  CHECK(text == "skiff-exec-stub: not a command: skiff runs it as a container's last step\n");
  // As skiff calls it: REPORT-FD PATH ARGV0 ARG — the command runs.
  auto [ok, said] = run_fd(stub.get(), {"skiff-exec-stub", "9", "/bin/echo", "echo", "hello"});
  CHECK(ok == 0);
  CHECK(said == "hello\n");
}

TEST_CASE("a sealed copy of a binary cannot be written and still runs") {
  auto copy = security::sealed_copy("/bin/true");
  REQUIRE(copy.valid());
  check_sealed(copy.get());
  CHECK(run_fd(copy.get(), {"true"}).first == 0);
}
