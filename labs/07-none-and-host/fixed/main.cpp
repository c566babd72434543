// labs/07-none-and-host/fixed/main.cpp — netns-lab MODE [PID] -- COMMAND [ARG...]
//
// Runs COMMAND with the network of MODE, as docker run --network does:
//   none            a network namespace of its own, with lo up and nothing else
//   host            the network namespace netns-lab runs in (no isolation)
//   container PID   the network namespace of process PID (a pod's containers
//                   share one this way)
// This file is given and fixed: it forks, and the child sets up its network
// with your functions (netns.hpp), then replaces itself with COMMAND. netns-lab
// itself never changes namespace: only the child does.
// Exit codes, Docker's: 125 when setting up fails (the message says why),
// 126 when COMMAND cannot be run, 127 when it does not exist, else COMMAND's
// own.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>

#include "netns.hpp"

namespace {

int usage() {
  std::cerr << "usage: netns-lab none|host -- COMMAND [ARG...]\n"
               "       netns-lab container PID -- COMMAND [ARG...]\n";
  return 125;
}

// The child's side: network, then exec. Never returns; an error ends the
// child with 125, as docker's would.
[[noreturn]] void child(const std::string& mode, pid_t peer, char* argv[]) {
  try {
    if (mode == "none") {
      lab::enter_new_network();
      lab::bring_up_loopback();
    } else if (mode == "container") {
      lab::join_network_of(peer);
    }  // host: nothing to do, the child already shares our stack
  } catch (const std::exception& e) {
    std::cerr << "netns-lab: " << e.what() << '\n';
    ::_exit(125);
  }
  ::execvp(argv[0], argv);
  const int error = errno;
  std::cerr << "netns-lab: " << argv[0] << ": " << std::strerror(error) << '\n';
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
  if (argc < 2) return usage();
  const std::string mode = argv[1];
  int next = 2;
  pid_t peer = 0;
  if (mode == "container") {
    if (argc < 3) return usage();
    const std::string text = argv[2];
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || value <= 0) {
      std::cerr << "netns-lab: container " << text << ": not a process id\n";
      return 125;
    }
    peer = static_cast<pid_t>(value);
    next = 3;
  } else if (mode != "none" && mode != "host") {
    std::cerr << "netns-lab: network " << mode << " not found (none, host, container PID)\n";
    return 125;
  }
  if (next >= argc || std::string(argv[next]) != "--" || next + 1 >= argc) return usage();

  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::cerr << "netns-lab: fork: " << std::strerror(errno) << '\n';
    return 125;
  }
  if (pid == 0) child(mode, peer, argv + next + 1);
  return wait_for(pid);
}
