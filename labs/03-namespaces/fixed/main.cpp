// labs/03-namespaces/fixed/main.cpp — nsbox HOSTNAME COMMAND [ARG...]
//
// Runs COMMAND in new namespaces (your clone_flags()), as root of its own
// user namespace, with HOSTNAME as its hostname. This file is given and
// fixed; it clones, lets the parent write the id maps (your write_id_maps)
// while the child waits, then lets the child set itself up (your
// setup_inside) and replace itself with COMMAND. The root directory stays the
// host's: lab 02 was about changing it.
// Exit codes, Docker's: 125 when setting up fails (the message says why),
// 126 when COMMAND cannot be run, 127 when it does not exist, else COMMAND's
// own.
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <exception>
#include <iostream>

#include "namespaces.hpp"

namespace lab {

void write_proc_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  check(fd, "open " + path);
  const auto n = ::write(fd, text.data(), text.size());
  const int error = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    errno = n < 0 ? error : EIO;
    check(-1, "write \"" + text.substr(0, text.find_last_not_of('\n') + 1) + "\" to " + path);
  }
}

}  // namespace lab

namespace {

// The child's side: wait until the parent has written the maps (a byte on
// the pipe; end of file means the parent gave up), set up, exec. Never
// returns; an error ends the child with 125, as docker's would.
[[noreturn]] void child(int go, const std::string& hostname, char* argv[]) {
  char byte = 0;
  if (::read(go, &byte, 1) != 1) ::_exit(125);
  ::close(go);
  try {
    lab::setup_inside(hostname);
  } catch (const std::exception& e) {
    std::cerr << "nsbox: " << e.what() << '\n';
    ::_exit(125);
  }
  ::execvp(argv[0], argv);
  const int error = errno;
  std::cerr << "nsbox: " << argv[0] << ": " << std::strerror(error) << '\n';
  ::_exit(error == ENOENT ? 127 : 126);
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return 125;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 3) {
    std::cerr << "usage: nsbox HOSTNAME COMMAND [ARG...]\n";
    return 125;
  }
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) {
    std::cerr << "nsbox: pipe: " << std::strerror(errno) << '\n';
    return 125;
  }
  // clone(2) without a new stack behaves like fork(2), in new namespaces.
  const long pid = ::syscall(SYS_clone, lab::clone_flags() | SIGCHLD, nullptr, nullptr, nullptr, 0);
  if (pid < 0) {
    std::cerr << "nsbox: clone: " << std::strerror(errno) << '\n';
    return 125;
  }
  if (pid == 0) {
    ::close(go[1]);
    child(go[0], argv[1], argv + 2);
  }
  ::close(go[0]);
  try {
    lab::write_id_maps(static_cast<pid_t>(pid));
  } catch (const std::exception& e) {
    std::cerr << "nsbox: " << e.what() << '\n';
    ::close(go[1]);  // the child reads end of file and exits
    wait_for(static_cast<pid_t>(pid));
    return 125;
  }
  if (::write(go[1], "g", 1) != 1) {
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    wait_for(static_cast<pid_t>(pid));
    return 125;
  }
  ::close(go[1]);
  return wait_for(static_cast<pid_t>(pid));
}
