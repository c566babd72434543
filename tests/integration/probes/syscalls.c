/* tests/integration/probes/syscalls.c — makes the system calls named on its
 * command line and prints, for each, "NAME: ok" or "NAME: ERRNO" (EPERM,
 * ENOSYS…): what a seccomp filter decided, seen from inside a container.
 * Lesson: 11-security. Built -static, copied into the test's image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static long call(const char* name) {
  if (!strcmp(name, "getpid")) return syscall(SYS_getpid);  /* glibc's getpid() never reports an errno */
  if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
  if (!strcmp(name, "unshare-user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
  if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
  if (!strcmp(name, "clone3")) return syscall(SYS_clone3, NULL, 0);
  if (!strcmp(name, "personality-query")) return personality(0xffffffff);
  if (!strcmp(name, "personality-odd")) return personality(0x1234);
  if (!strcmp(name, "socket-vsock")) return socket(40 /* AF_VSOCK */, SOCK_STREAM, 0);
  if (!strcmp(name, "socket-unix")) return socket(AF_UNIX, SOCK_STREAM, 0);
  errno = EINVAL;
  return -2;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    errno = 0;
    long rc = call(argv[i]);
    if (rc == -2) printf("%s: unknown probe\n", argv[i]);
    else if (rc < 0) printf("%s: %s\n", argv[i], strerrorname_np(errno));
    else printf("%s: ok\n", argv[i]);
  }
  return 0;
}
