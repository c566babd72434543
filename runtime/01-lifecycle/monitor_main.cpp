// 01-lifecycle/monitor_main.cpp — skiff-monitor: one per running container.
//
// Usage (by skiff's launcher, never by hand):
//   skiff-monitor SKIFF_BINARY STORE_ROOT CONTAINER_ID PID [CLI_FD]
//
// The launcher execs this program once the container's PID 1 runs, so PID 1
// is our child and waitpid(2) tells us how it ended. Then someone must record
// that and clean up, and everything heavy for that lives in skiff:
//  - with CLI_FD (a `skiff run` waits in the foreground), we send the status
//    to the CLI, which already has skiff loaded and records it; it answers
//    one byte when done;
//  - otherwise, or if the CLI is gone before answering, we exec
//    `skiff _exited ID STATUS`.
// This file stays small because one copy of it stays resident beside every
// running container (it links only the C library, statically).
// Lesson: lessons/01-first-container.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    fputs("skiff-monitor: started by skiff, not by hand\n", stderr);
    return 125;
  }
  // A CLI that is gone must not kill us with SIGPIPE: we record instead.
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = (pid_t)atoi(argv[4]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    status = 255 << 8;  // not our child any more: say "exited 255", as Docker would
    break;
  }
  if (argc == 6) {
    int cli = atoi(argv[5]);
    char answer = 0;
    if (write(cli, &status, sizeof status) == (ssize_t)sizeof status && read(cli, &answer, 1) == 1)
      return 0;
    close(cli);
  }
  char status_text[16];
  snprintf(status_text, sizeof status_text, "%d", status);
  execl(argv[1], "skiff", "--root", argv[2], "_exited", argv[3], status_text, (char*)NULL);
  perror("skiff-monitor: exec skiff");
  return 125;
}
