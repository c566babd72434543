// lessons/06-volumes/in-root.c — in-root ROOT PATH: where PATH leads when
// ROOT is "/", asked of the kernel with openat2(2) and RESOLVE_IN_ROOT.
// Prints the host path of what it found (the kernel's name for the file
// descriptor, /proc/self/fd/N), or why there is nothing.
#define _GNU_SOURCE  // O_PATH
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char *argv[]) {
  if (argc != 3) {
    fprintf(stderr, "usage: in-root ROOT PATH\n");
    return 2;
  }
  int root = open(argv[1], O_PATH | O_DIRECTORY);
  if (root < 0) {
    perror(argv[1]);
    return 1;
  }
  // "/" and every absolute symlink mean ROOT; ".." stops at ROOT.
  struct open_how how = {.flags = O_PATH, .resolve = RESOLVE_IN_ROOT};
  int fd = (int)syscall(SYS_openat2, root, argv[2], &how, sizeof how);
  if (fd < 0) {
    fprintf(stderr, "in-root: %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  char link[64], where[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, where, sizeof where - 1);
  if (n < 0) {
    perror(link);
    return 1;
  }
  where[n] = '\0';
  puts(where);
  return 0;
}
