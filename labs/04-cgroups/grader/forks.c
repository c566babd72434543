/* labs/04-cgroups/grader/forks.c — how many processes may this group start?
 *
 * usage: forks N
 * Forks up to N children that wait (on a pipe) instead of exiting, so that
 * each one holds its slot in pids.current; stops at the first fork that
 * fails. Prints "started K" and the error that stopped it, if any ("fork:
 * Resource temporarily unavailable" is the pids controller saying no), lets
 * the children go, reaps them, and exits 0. Exit 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char* argv[]) {
  if (argc != 2) {
    fprintf(stderr, "usage: forks N\n");
    return 2;
  }
  int n = atoi(argv[1]), started = 0, error = 0;
  int hold[2];
  if (pipe(hold) != 0) return 2;
  for (; started < n; ++started) {
    pid_t pid = fork();
    if (pid < 0) {
      error = errno;
      break;
    }
    if (pid == 0) {
      char c;
      close(hold[1]);
      (void)read(hold[0], &c, 1); /* returns at end of file: the parent let go */
      _exit(0);
    }
  }
  close(hold[1]);
  printf("started %d\n", started);
  if (error != 0) printf("fork: %s\n", strerror(error));
  fflush(stdout);
  while (wait(NULL) > 0) {}
  return 0;
}
