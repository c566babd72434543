/* labs/11-security/grader/probe.c — tries one kind of system call and says
 * what the kernel answered. The checks run it inside the student's filter
 * (sandbox PROBE OP ...) and read its output and how it ended.
 *
 * usage: probe OP [ARG...]
 *   hello TOKEN        prints "hello TOKEN": a program can start and write
 *   calls NR...        syscall(NR, 0, 0, 0, 0, 0, 0) for each NR (use only
 *                      calls harmless with zeros: getuid 102, alarm 37, ...)
 *   refused DIR        mkdirat DIR/made-by-probe, socket(AF_INET), kill(1, 0)
 *   i386-unlink PATH   unlink(PATH) through int 0x80, the i386 ABI: number 10,
 *                      which on x86_64 is mprotect
 *   x32 NR             syscall(NR | 0x40000000), the x32 ABI
 *   thread-i386        a second thread makes an i386 getpid (int 0x80); the
 *                      first one waits for it and says it is still alive
 *   fork               fork(), the child exits 7, the parent waits
 *   thread             pthread_create (glibc tries clone3, then clone)
 *   clone-ns           clone(2) with each namespace flag in turn
 *   clone3-ns          clone3(2) with no flag, then with CLONE_NEWUSER
 *   unshare            unshare(CLONE_NEWUSER), unshare(CLONE_NEWNS)
 *
 * Each attempt prints one line, "WHAT: ok" or "WHAT: ENAME" (the errno's
 * name), and the probe ends with "done" and exit code 0: a line that is
 * missing, with exit code 159 (128 + SIGSYS), means the filter killed it
 * there. Exit code 2: usage. Every call is made with syscall() or by hand,
 * so that its number is the one named here, whatever glibc prefers.
 * Built static (gcc -static): it runs with no dynamic loader, so the calls a
 * program makes before main() are few and known (fixed/filter.hpp lists them).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char* what, long rc) {
  if (rc >= 0) printf("%s: ok\n", what);
  else printf("%s: %s\n", what, strerrorname_np(errno) ? strerrorname_np(errno) : "unknown errno");
  fflush(stdout);
}

/* A system call through int 0x80: the kernel takes it as an i386 call
 * (AUDIT_ARCH_I386, i386 numbers), even from a 64-bit program. Arguments
 * are 32 bits wide: a pointer must lie below 4 GiB. */
static long int80(long nr, long arg1) {
  long rc;
  __asm__ volatile("int $0x80" : "=a"(rc) : "a"(nr), "b"(arg1) : "memory", "r8", "r9", "r10", "r11");
  if (rc < 0 && rc > -4096) {
    errno = (int)-rc;
    return -1;
  }
  return rc;
}

static int i386_unlink(const char* path) {
  /* MAP_32BIT: the copy of PATH must have an address that fits in ebx. */
  char* low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (low == MAP_FAILED || strlen(path) >= 4096) {
    fprintf(stderr, "probe: no memory below 4 GiB for the path\n");
    return 2;
  }
  strcpy(low, path);
  report("i386 unlink", int80(10, (long)(unsigned long)low)); /* i386 __NR_unlink */
  return 0;
}

static void* i386_getpid(void* unused) {
  (void)unused;
  report("i386 getpid from a thread", int80(20, 0)); /* i386 __NR_getpid */
  return NULL;
}

static void* thread_body(void* arg) {
  *(int*)arg = 42;
  return NULL;
}

/* A fork-like clone (no CLONE_VM): the child has its own copy of this
 * stack, so it may return from syscall() and exit at once. */
static long clone_and_reap(unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L);
  if (pid == 0) syscall(SYS_exit_group, 0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static long clone3_and_reap(unsigned long long flags) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) syscall(SYS_exit_group, 0);
  if (pid > 0) waitpid((pid_t)pid, NULL, 0);
  return pid;
}

static const struct {
  const char* name;
  unsigned long flag;
} namespaces[] = {
    {"CLONE_NEWNS", CLONE_NEWNS},   {"CLONE_NEWUTS", CLONE_NEWUTS}, {"CLONE_NEWIPC", CLONE_NEWIPC},
    {"CLONE_NEWUSER", CLONE_NEWUSER}, {"CLONE_NEWPID", CLONE_NEWPID}, {"CLONE_NEWNET", CLONE_NEWNET},
    {"CLONE_NEWCGROUP", CLONE_NEWCGROUP},
};

static int usage(void) {
  fprintf(stderr, "usage: probe hello TOKEN | calls NR... | refused DIR | i386-unlink PATH | x32 NR |\n"
                  "             thread-i386 | fork | thread | clone-ns | clone3-ns | unshare\n");
  return 2;
}

int main(int argc, char* argv[]) {
  if (argc < 2) return usage();
  const char* op = argv[1];
  char what[256];
  if (strcmp(op, "hello") == 0 && argc == 3) {
    printf("hello %s\n", argv[2]);
  } else if (strcmp(op, "calls") == 0) {
    for (int i = 2; i < argc; ++i) {
      snprintf(what, sizeof what, "syscall %s", argv[i]);
      report(what, syscall(strtol(argv[i], NULL, 10), 0L, 0L, 0L, 0L, 0L, 0L));
    }
  } else if (strcmp(op, "refused") == 0 && argc == 3) {
    snprintf(what, sizeof what, "%s/made-by-probe", argv[2]);
    report("mkdirat", syscall(SYS_mkdirat, AT_FDCWD, what, 0755));
    report("socket", syscall(SYS_socket, AF_INET, SOCK_STREAM, 0));
    report("kill", syscall(SYS_kill, 1, 0));
  } else if (strcmp(op, "i386-unlink") == 0 && argc == 3) {
    if (i386_unlink(argv[2]) != 0) return 2;
  } else if (strcmp(op, "x32") == 0 && argc == 3) {
    report("x32 call", syscall(0x40000000L | strtol(argv[2], NULL, 10)));
  } else if (strcmp(op, "thread-i386") == 0) {
    pthread_t t;
    int rc = pthread_create(&t, NULL, i386_getpid, NULL);
    if (rc != 0) {
      errno = rc;
      report("pthread_create", -1);
    } else {
      pthread_join(t, NULL);
      printf("main thread: still running\n");
    }
  } else if (strcmp(op, "fork") == 0) {
    pid_t pid = fork();
    if (pid == 0) _exit(7);
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 7)) {
      printf("fork: the child did not exit 7\n");
      return 1;
    }
    report("fork", pid);
  } else if (strcmp(op, "thread") == 0) {
    pthread_t t;
    int value = 0;
    int rc = pthread_create(&t, NULL, thread_body, &value);
    if (rc == 0) pthread_join(t, NULL);
    errno = rc;
    report("thread", rc == 0 && value == 42 ? 0 : -1);
  } else if (strcmp(op, "clone-ns") == 0) {
    for (size_t i = 0; i < sizeof namespaces / sizeof namespaces[0]; ++i) {
      snprintf(what, sizeof what, "clone %s", namespaces[i].name);
      report(what, clone_and_reap(namespaces[i].flag));
    }
  } else if (strcmp(op, "clone3-ns") == 0) {
    report("clone3", clone3_and_reap(0));
    report("clone3 CLONE_NEWUSER", clone3_and_reap(CLONE_NEWUSER));
  } else if (strcmp(op, "unshare") == 0) {
    report("unshare CLONE_NEWUSER", syscall(SYS_unshare, CLONE_NEWUSER));
    report("unshare CLONE_NEWNS", syscall(SYS_unshare, CLONE_NEWNS));
  } else {
    return usage();
  }
  printf("done\n");
  return 0;
}
