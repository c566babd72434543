// 11-security/exec_stub.cpp — see exec_stub.hpp.
#include "11-security/exec_stub.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "11-security/sealed_exe.hpp"
#include "core/error.hpp"
#include "core/trace.hpp"

#ifdef SKIFF_EXEC_STUB
// The stub's bytes, as the build made them (runtime/CMakeLists.txt).
extern "C" const unsigned char skiff_exec_stub_begin[];
extern "C" const unsigned char skiff_exec_stub_end[];
__asm__(".section .rodata\n"
        ".balign 16\n"
        "skiff_exec_stub_begin:\n"
        ".incbin \"" SKIFF_EXEC_STUB "\"\n"
        "skiff_exec_stub_end:\n"
        ".previous\n");
#endif

namespace skiff::security {
namespace {

core::Fd g_stub;  // made by protect_host_binary; the child inherits it with our memory

}  // namespace

core::Fd make_exec_stub() {
#ifdef SKIFF_EXEC_STUB
  try {
    core::Fd stub = executable_memfd("skiff-exec-stub");
    const unsigned char* at = skiff_exec_stub_begin;
    while (at < skiff_exec_stub_end) {
      ssize_t n = ::write(stub.get(), at, static_cast<size_t>(skiff_exec_stub_end - at));
      if (n <= 0) return {};
      at += n;
    }
    seal_for_good(stub.get());
    return stub;
  } catch (const core::SystemError&) {
    return {};  // vm.memfd_noexec=2, or no memfd: the caller falls back
  }
#else
  return {};
#endif
}

void protect_host_binary() {
  core::trace::Step step("11-security", "seal a copy of the exec stub: the command is exec'd from it, never from skiff's file (CVE-2019-5736)");
  g_stub = make_exec_stub();
  if (g_stub.valid()) {
    core::trace::call("memfd_create(skiff-exec-stub), write, fcntl(F_ADD_SEALS, F_SEAL_WRITE|…)");
    return;
  }
  run_from_sealed_binary();  // no stub here: skiff itself, from a read-only view
}

int exec_stub_fd() { return g_stub.valid() ? g_stub.get() : -1; }

void exec_through_stub(int stub, int report_fd, const std::string& path, char* const* argv,
                       char* const* envp) {
  std::vector<std::string> words = {"skiff-exec-stub", std::to_string(report_fd), path};
  std::vector<char*> args;
  for (auto& w : words) args.push_back(w.data());
  for (char* const* a = argv; *a; ++a) args.push_back(*a);
  args.push_back(nullptr);
  core::trace::call("execveat(exec stub [fd " + std::to_string(stub) + "], \"" + path + "\")");
  // The stub marks REPORT_FD close-on-exec before it execs the command.
  ::fcntl(report_fd, F_SETFD, 0);
  ::syscall(SYS_execveat, stub, "", args.data(), envp, AT_EMPTY_PATH);
  // A seccomp profile that forbids execveat: the same file through /proc.
  std::string via_proc = "/proc/self/fd/" + std::to_string(stub);
  ::execve(via_proc.c_str(), args.data(), envp);
  int err = errno;
  ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  errno = err;
}

}  // namespace skiff::security
