// 11-security/exec_stub_main.cpp — skiff-exec-stub, the container's last
// step before its command (CVE-2019-5736).
//
// Kernel concept: the process that becomes the container runs skiff's code
//   until it execs the command, so /proc/self/exe names skiff's file on the
//   host right up to that execve. The kernel resolves the command, a
//   "#!/proc/self/exe" script's interpreter and an ELF's PT_INTERP while
//   the old image is still in place: an image can make that execve run
//   skiff's host file again, with the image's dynamic loader, and so hold
//   a descriptor of skiff's binary. So skiff does not exec the command
//   itself: it execs this stub from a sealed memfd copy, and the stub
//   execs the command. At the stub's execve, /proc/self/exe names the
//   memfd: a copy that no one can write (F_SEAL_WRITE) and that is gone
//   once the command runs.
//
// The stub is a file of under 2 KB, machine code with no C library, no
//   dynamic loader (an image's loader can never be asked to start it),
//   raw system calls. skiff embeds it when it is built (runtime/CMakeLists.txt)
//   and copies it into a memfd before each start (exec_stub.cpp).
//
// Its command line, from skiff: skiff-exec-stub REPORT-FD PATH ARGV0 [ARG…]
//   REPORT-FD is skiff's sync socket: marked close-on-exec here, so that the
//   parent sees it close when the command starts, and written a
//   launch::ChildReport (126 or 127, Docker's message) when the execve fails.
//   Any other command line (the stub run as a container's command, or as an
//   interpreter) is refused with exit status 127.
// Man pages: execve(2), fcntl(2), memfd_create(2).
// Runs in: the container's first process, after every other step (x86-64).
// Lesson: lessons/11-security.
#include "launch/report.hpp"

namespace {

long sys(long number, long a = 0, long b = 0, long c = 0) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return ret;
}

constexpr long kWrite = 1, kExecve = 59, kFcntl = 72, kExitGroup = 231;
constexpr long kSetFd = 2, kCloseOnExec = 1;  // F_SETFD, FD_CLOEXEC
constexpr int kNoEnt = 2, kAccess = 13;

[[noreturn]] void exit_with(long code) {
  for (;;) sys(kExitGroup, code);
}

unsigned long length(const char* s) {
  unsigned long n = 0;
  while (s[n]) ++n;
  return n;
}

// Appends TEXT to the report's message, always leaving its final NUL.
struct Message {
  char* at;
  char* end;
  void add(const char* text) {
    while (*text && at < end - 1) *at++ = *text++;
  }
};

// The C library's words for the errors an execve gives (strerror(3)), as
// skiff prints them when it execs the command itself (launch/process.cpp).
const char* describe(int err) {
  switch (err) {
    case 1: return "Operation not permitted";
    case kNoEnt: return "No such file or directory";
    case 7: return "Argument list too long";
    case 8: return "Exec format error";
    case 12: return "Cannot allocate memory";
    case kAccess: return "permission denied";
    case 20: return "Not a directory";
    case 21: return "Is a directory";
    case 26: return "Text file busy";
    case 40: return "Too many levels of symbolic links";
    default: return "the kernel refused to run it";
  }
}

bool parse_fd(const char* text, long* fd) {
  long value = 0;
  if (!*text) return false;
  for (; *text; ++text) {
    if (*text < '0' || *text > '9' || value > 100000) return false;
    value = value * 10 + (*text - '0');
  }
  *fd = value;
  return true;
}

}  // namespace

// The compiler may turn a loop into a call to these: no C library here.
extern "C" void* memset(void* dest, int c, unsigned long n) {
  auto* d = static_cast<unsigned char*>(dest);
  while (n--) *d++ = static_cast<unsigned char>(c);
  return dest;
}
extern "C" void* memcpy(void* dest, const void* src, unsigned long n) {
  auto* d = static_cast<unsigned char*>(dest);
  const auto* s = static_cast<const unsigned char*>(src);
  while (n--) *d++ = *s++;
  return dest;
}

extern "C" [[noreturn]] void stub_main(long* stack) {
  long argc = stack[0];
  char** argv = reinterpret_cast<char**>(stack + 1);
  char** envp = argv + argc + 1;
  long report_fd = -1;
  if (argc < 4 || !parse_fd(argv[1], &report_fd)) {
    const char* why = "skiff-exec-stub: not a command: skiff runs it as a container's last step\n";
    sys(kWrite, 2, reinterpret_cast<long>(why), static_cast<long>(length(why)));
    exit_with(127);
  }
  sys(kFcntl, report_fd, kSetFd, kCloseOnExec);
  long err = -sys(kExecve, reinterpret_cast<long>(argv[2]), reinterpret_cast<long>(argv + 3),
                  reinterpret_cast<long>(envp));
  skiff::launch::ChildReport report{};
  report.exit_code = err == kNoEnt ? 127 : 126;
  Message m{report.message, report.message + sizeof report.message};
  m.add("exec: \"");
  m.add(argv[3]);
  m.add("\": ");
  m.add(describe(static_cast<int>(err)));
  sys(kWrite, report_fd, reinterpret_cast<long>(&report), sizeof report);
  exit_with(125);
}

// The entry point: the stack pointer holds argc, then argv, then envp.
__asm__(".global _start\n_start:\n  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call stub_main\n  hlt\n");
