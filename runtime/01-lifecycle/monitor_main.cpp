// 01-lifecycle/monitor_main.cpp — skiff-monitor: one per running container.
//
// Usage (by skiff's launcher, never by hand):
//   skiff-monitor SKIFF_BINARY STORE_ROOT CONTAINER_ID PID
//
// The launcher execs this program once the container's PID 1 runs, so PID 1
// is our child and waitpid(2) tells us how it ended. Then we exec
// `skiff _exited` to record that and clean up. Everything heavy lives in
// skiff; this file stays small because one copy of it stays resident beside
// every running container (it links only the C library, statically).
// Lesson: lessons/01-first-container.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc != 5) {
    fputs("skiff-monitor: started by skiff, not by hand\n", stderr);
    return 125;
  }
  pid_t pid = (pid_t)atoi(argv[4]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    status = 255 << 8;  // not our child any more: say "exited 255", as Docker would
    break;
  }
  char status_text[16];
  snprintf(status_text, sizeof status_text, "%d", status);
  execl(argv[1], "skiff", "--root", argv[2], "_exited", argv[3], status_text, (char*)NULL);
  perror("skiff-monitor: exec skiff");
  return 125;
}
