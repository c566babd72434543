// labs/11-security/fixed/main.cpp — sandbox [--allow NR,...] [--dump] PROGRAM [ARG...]
//
// Builds the seccomp filter with your build_filter() (filter.cpp), installs
// it on itself, and replaces itself with PROGRAM, which runs under it: a
// filter is inherited across execve and fork, and never removed.
//
//   --allow NR,...  allow these system call numbers too (after kAllowed)
//   --dump          print the program, one instruction a line with the
//                   absolute targets of its jumps, and run nothing
//
// This file is given. Exit codes, Docker's: 125 when the filter cannot be
// built or installed (the message says why), 126 when PROGRAM cannot be run
// (under your filter, execve itself may be refused), 127 when it does not
// exist, else PROGRAM's own — 159 (128 + SIGSYS) when the filter killed it.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>

#include "filter.hpp"

namespace {

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::vector<uint32_t> parse_numbers(const std::string& list) {
  std::vector<uint32_t> numbers;
  std::size_t start = 0;
  while (start < list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(start, end - start);
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos)
      lab::fail("--allow " + list + ": '" + item + "' is not a system call number");
    numbers.push_back(static_cast<uint32_t>(std::stoul(item)));
    start = end + 1;
  }
  return numbers;
}

// The name of the action a return carries, for --dump.
std::string action_name(uint32_t k) {
  const int data = static_cast<int>(k & SECCOMP_RET_DATA);
  switch (k & SECCOMP_RET_ACTION_FULL) {
    case SECCOMP_RET_ALLOW: return "ALLOW";
    case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
    case SECCOMP_RET_KILL_THREAD: return "KILL_THREAD";
    case SECCOMP_RET_TRAP: return "TRAP";
    case SECCOMP_RET_LOG: return "LOG";
    case SECCOMP_RET_ERRNO: {
      const char* name = data != 0 ? strerrorname_np(data) : nullptr;
      return "ERRNO(" + std::to_string(data) + (name ? std::string(" ") + name : "") + ")";
    }
  }
  char other[32];
  std::snprintf(other, sizeof other, "action 0x%08x", k);
  return other;
}

// One instruction, the way a student checks a jump: targets as indexes.
std::string describe(const lab::Program& program, std::size_t i) {
  const sock_filter& f = program[i];
  char line[160];
  const auto target = [&](std::size_t skip) { return std::to_string(i + 1 + skip); };
  const char* cond = nullptr;
  switch (f.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      std::snprintf(line, sizeof line, "ld   [%u]", f.k);
      return line;
    case BPF_RET | BPF_K: return "ret  " + action_name(f.k);
    case BPF_JMP | BPF_JA: return "ja   → " + target(f.k);
    case BPF_JMP | BPF_JEQ | BPF_K: cond = "jeq "; break;
    case BPF_JMP | BPF_JGE | BPF_K: cond = "jge "; break;
    case BPF_JMP | BPF_JGT | BPF_K: cond = "jgt "; break;
    case BPF_JMP | BPF_JSET | BPF_K: cond = "jset"; break;
    default:
      std::snprintf(line, sizeof line, "code 0x%04x jt %u jf %u k 0x%08x", f.code, f.jt, f.jf, f.k);
      return line;
  }
  std::snprintf(line, sizeof line, "%s #0x%-8x true → %s, false → %s", cond, f.k, target(f.jt).c_str(),
                target(f.jf).c_str());
  return line;
}

// What the kernel would only answer with EINVAL, said with the instruction.
void verify(const lab::Program& program) {
  if (program.empty()) lab::fail("build_filter returned an empty program");
  if (program.size() > BPF_MAXINSNS)
    lab::fail("the program has " + std::to_string(program.size()) + " instructions; the kernel takes " +
              std::to_string(BPF_MAXINSNS));
  if (program.back().code != (BPF_RET | BPF_K))
    lab::fail("the last instruction (" + std::to_string(program.size() - 1) + ") is not a return");
  for (std::size_t i = 0; i < program.size(); ++i) {
    const sock_filter& f = program[i];
    if (BPF_CLASS(f.code) != BPF_JMP) continue;
    const std::size_t far = i + 1 + (f.code == (BPF_JMP | BPF_JA) ? f.k : std::max(f.jt, f.jf));
    if (far >= program.size())
      lab::fail("instruction " + std::to_string(i) + " (" + describe(program, i) + ") jumps past the end (" +
                std::to_string(program.size()) + " instructions)");
  }
}

void install(const lab::Program& program) {
  // A killed probe must not leave a core file in the grader's folder.
  const rlimit no_core{0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) < 0) fail_errno("setrlimit(RLIMIT_CORE, 0)");
  // Without CAP_SYS_ADMIN, the kernel installs a filter only for a process
  // that can never gain privileges by execve (a setuid program run under a
  // filter that its author did not expect could be fooled by it).
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail_errno("prctl(PR_SET_NO_NEW_PRIVS)");
  const sock_fprog fprog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) < 0)
    fail_errno("seccomp(SECCOMP_SET_MODE_FILTER) of " + std::to_string(program.size()) + " instructions");
}

}  // namespace

int main(int argc, char* argv[]) {
  std::vector<uint32_t> allowed = lab::kAllowed;
  bool dump = false;
  int i = 1;
  try {
    for (; i < argc && argv[i][0] == '-'; ++i) {
      const std::string opt = argv[i];
      if (opt == "--allow" && i + 1 < argc) {
        for (uint32_t nr : parse_numbers(argv[++i])) allowed.push_back(nr);
      } else if (opt == "--dump") {
        dump = true;
      } else {
        break;
      }
    }
    if (!dump && i >= argc) {
      std::cerr << "usage: sandbox [--allow NR,...] [--dump] PROGRAM [ARG...]\n";
      return 125;
    }
    const lab::Program program = lab::build_filter(allowed);
    if (dump) {
      for (std::size_t n = 0; n < program.size(); ++n) std::printf("%4zu  %s\n", n, describe(program, n).c_str());
      return 0;
    }
    verify(program);
    install(program);
  } catch (const std::exception& e) {
    std::cerr << "sandbox: " << e.what() << '\n';
    return 125;
  }
  // From here on every call goes through the filter, this execve included.
  ::execv(argv[i], argv + i);
  const int error = errno;
  std::cerr << "sandbox: " << argv[i] << ": " << std::strerror(error) << '\n';
  return error == ENOENT ? 127 : 126;
}
