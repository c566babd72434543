// labs/01-first-container/fixed/main.cpp — lifecycle-lab, a front end to your
// lifecycle_lab.cpp. This file is given.
//
//   lifecycle-lab keys SPEC                  parse_keys(): the bytes, in hex ("10 11")
//   lifecycle-lab detach SPEC [FEED...]      feed() each FEED in turn, a FEED being one
//                                            read's bytes in hex ("6c730a", "" for none);
//                                            prints one line per feed: the bytes to
//                                            forward, in hex; then "DETACHED" and stops
//                                            when the sequence completes
//   lifecycle-lab duration SECONDS           human_duration()
//   lifecycle-lab status STATE SECONDS [CODE]
//                                            status_cell(); STATE created|running|paused|exited
//   lifecycle-lab relay SPEC COMMAND [ARG...]
//                                            an attach: runs COMMAND (e.g. `skiff attach
//                                            --detach-keys ctrl-x,ctrl-y ID`) and passes what
//                                            it reads on stdin to COMMAND's stdin through
//                                            feed(); on detach, prints "lifecycle-lab:
//                                            detached" on stderr, stops COMMAND, exit 0
// Exit codes: 125 when parse_keys() refuses SPEC, 2 on a usage error.
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>

#include "lifecycle_lab.hpp"

namespace {

[[noreturn]] void usage() {
  std::cerr << "usage: lifecycle-lab keys SPEC\n"
               "       lifecycle-lab detach SPEC [HEX...]\n"
               "       lifecycle-lab duration SECONDS\n"
               "       lifecycle-lab status created|running|paused|exited SECONDS [CODE]\n"
               "       lifecycle-lab relay SPEC COMMAND [ARG...]\n";
  std::exit(2);
}

std::string hex(const std::string& bytes) {
  std::string out;
  char b[4];
  for (unsigned char c : bytes) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += (out.empty() ? "" : " ") + std::string(b);
  }
  return out;
}

std::string unhex(const std::string& text) {
  if (text.size() % 2 != 0) usage();
  std::string out;
  for (size_t i = 0; i < text.size(); i += 2) {
    const std::string pair = text.substr(i, 2);
    if (pair.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) usage();
    out += static_cast<char>(std::stoi(pair, nullptr, 16));
  }
  return out;
}

double number(const char* text) {
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || v < 0) usage();
  return v;
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // COMMAND stopped reading: it ends, and we see it
    done += static_cast<size_t>(n);
  }
}

int exit_code(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The CLI side of an attach, in small: the user's keys go to COMMAND through
// your feed(), read by read, as `skiff attach` does with its socket.
int relay(lab::Detacher d, char** command) {
  int to_command[2];
  if (::pipe2(to_command, O_CLOEXEC) < 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    ::dup2(to_command[0], STDIN_FILENO);
    ::execvp(command[0], command);
    std::perror(command[0]);
    ::_exit(127);
  }
  ::close(to_command[0]);
  std::signal(SIGPIPE, SIG_IGN);
  bool typing = true;
  char buf[4096];
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      std::cerr << "lifecycle-lab: " << command[0] << " ended\n";
      return exit_code(status);
    }
    struct pollfd fd = {typing ? STDIN_FILENO : -1, POLLIN, 0};
    if (::poll(&fd, 1, 50) <= 0) continue;
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {  // our input ended: so does COMMAND's, and we wait for it
      typing = false;
      ::close(to_command[1]);
      continue;
    }
    write_all(to_command[1], lab::feed(d, std::string_view(buf, static_cast<size_t>(n))));
    if (d.detached) {
      std::cerr << "lifecycle-lab: detached\n";
      ::kill(pid, SIGTERM);
      ::waitpid(pid, &status, 0);
      return 0;
    }
  }
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 3) usage();
  const std::string mode = argv[1];
  try {
    if (mode == "keys" && argc == 3) {
      const auto keys = lab::parse_keys(argv[2]);
      std::cout << hex(std::string(keys.begin(), keys.end())) << '\n';
    } else if (mode == "detach") {
      lab::Detacher d{lab::parse_keys(argv[2])};
      for (int i = 3; i < argc; ++i) {
        std::cout << hex(lab::feed(d, unhex(argv[i]))) << '\n';
        if (d.detached) {
          std::cout << "DETACHED\n";
          break;
        }
      }
    } else if (mode == "duration" && argc == 3) {
      std::cout << lab::human_duration(number(argv[2])) << '\n';
    } else if (mode == "status" && (argc == 4 || argc == 5)) {
      const std::string s = argv[2];
      lab::State state = s == "created"   ? lab::State::created
                         : s == "running" ? lab::State::running
                         : s == "paused"  ? lab::State::paused
                         : s == "exited"  ? lab::State::exited
                                          : (usage(), lab::State::created);
      const int code = argc == 5 ? static_cast<int>(number(argv[4])) : 0;
      std::cout << lab::status_cell(state, number(argv[3]), code) << '\n';
    } else if (mode == "relay" && argc >= 4) {
      return relay(lab::Detacher{lab::parse_keys(argv[2])}, argv + 3);
    } else {
      usage();
    }
  } catch (const std::invalid_argument& e) {
    std::cerr << "lifecycle-lab: " << e.what() << '\n';
    return 125;
  }
  return 0;
}
