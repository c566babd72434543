// labs/04-cgroups/fixed/main.cpp — cglimit, a front end to your cgroup.cpp.
//
//   cglimit plan   v1|v2 NAME [LIMITS]        print plan(): "DIR/FILE VALUE" a line
//   cglimit apply  ROOT v1|v2 NAME [LIMITS]   apply(): make the cgroup, write the limits
//   cglimit remove ROOT v1|v2 NAME            remove()
//   cglimit run    ROOT v1|v2 NAME [LIMITS] -- COMMAND [ARG...]
//                  apply(), run COMMAND inside the cgroup, wait, remove()
//   LIMITS: --memory BYTES  --cpus N (e.g. 0.5)  --pids N
// ROOT is where the hierarchy is mounted: /sys/fs/cgroup on a real machine,
// a temporary folder laid out like it in the grader. This file is given.
// Exit codes: 125 when a cgroup step fails (the message says why), 2 on a
// usage error, else COMMAND's own (126/127 when it cannot be run).
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <iostream>
#include <stdexcept>

#include "cgroup.hpp"

namespace {

struct Args {
  std::string root;
  lab::Version version = lab::Version::v2;
  std::string name;
  lab::Limits limits;
  char** command = nullptr;  // after "--", for run
};

[[noreturn]] void usage() {
  std::cerr << "usage: cglimit plan v1|v2 NAME [--memory BYTES] [--cpus N] [--pids N]\n"
               "       cglimit apply|remove ROOT v1|v2 NAME [LIMITS]\n"
               "       cglimit run ROOT v1|v2 NAME [LIMITS] -- COMMAND [ARG...]\n";
  std::exit(2);
}

// argv from the version on: v1|v2 NAME [--memory B] [--cpus N] [--pids N] [-- CMD...]
Args parse(int i, int argc, char* argv[]) {
  Args a;
  if (i + 2 > argc) usage();
  const std::string v = argv[i++];
  if (v != "v1" && v != "v2") usage();
  a.version = v == "v1" ? lab::Version::v1 : lab::Version::v2;
  a.name = argv[i++];
  for (; i < argc; ++i) {
    const std::string opt = argv[i];
    if (opt == "--") {
      a.command = argv + i + 1;
      break;
    }
    if (i + 1 >= argc) usage();
    const char* value = argv[++i];
    if (opt == "--memory") a.limits.memory_bytes = std::stoll(value);
    else if (opt == "--cpus") a.limits.nano_cpus = std::llround(std::stod(value) * 1e9);
    else if (opt == "--pids") a.limits.pids = std::stoll(value);
    else usage();
  }
  return a;
}

// The child of `run`: join every directory of the cgroup (writing 0 to
// cgroup.procs moves the writer itself), then become COMMAND.
[[noreturn]] void join_and_exec(const Args& a) {
  try {
    for (const auto& dir : lab::cgroup_dirs(a.version, a.name))
      lab::write_file(a.root + "/" + dir + "/cgroup.procs", "0");
  } catch (const std::exception& e) {
    std::cerr << "cglimit: join the cgroup: " << e.what() << '\n';
    ::_exit(125);
  }
  ::execvp(a.command[0], a.command);
  const int error = errno;
  std::cerr << "cglimit: " << a.command[0] << ": " << std::strerror(error) << '\n';
  ::_exit(error == ENOENT ? 127 : 126);
}

int run(const Args& a) {
  if (a.command == nullptr || a.command[0] == nullptr) usage();
  lab::apply(a.root, a.version, a.name, a.limits);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    lab::remove(a.root, a.version, a.name);
    errno = error;
    lab::check(-1, "fork");
  }
  if (pid == 0) join_and_exec(a);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  lab::remove(a.root, a.version, a.name);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char* argv[]) {
  if (argc < 2) usage();
  const std::string cmd = argv[1];
  try {
    if (cmd == "plan") {
      const auto a = parse(2, argc, argv);
      for (const auto& w : lab::plan(a.version, a.name, a.limits))
        std::cout << (w.dir.empty() ? "" : w.dir + "/") << w.file << ' ' << w.value << '\n';
      return 0;
    }
    if (argc < 3 || (cmd != "apply" && cmd != "remove" && cmd != "run")) usage();
    auto a = parse(3, argc, argv);
    a.root = argv[2];
    if (cmd == "apply") lab::apply(a.root, a.version, a.name, a.limits);
    if (cmd == "remove") lab::remove(a.root, a.version, a.name);
    if (cmd == "run") return run(a);
    return 0;
  } catch (const std::invalid_argument&) {
    usage();
  } catch (const std::exception& e) {
    std::cerr << "cglimit: " << e.what() << '\n';
    return 125;
  }
}
