// 01-lifecycle/monitor_main.cpp — skiff-monitor: one per running container.
//
// Usage (by skiff's launcher, never by hand):
//   skiff-monitor SKIFF_BINARY STORE_ROOT CONTAINER_ID PID CLI_FD OUT_FD ERR_FD LOG
// (an argument that does not apply is "-").
//
// The launcher execs this program once the container's PID 1 runs, so PID 1
// is our child and waitpid(2) tells us how it ended.
//  - With OUT_FD and ERR_FD (a detached container: `run -d`, `start`), the
//    container writes into two pipes and we append each line to LOG with
//    its time and stream, for `skiff logs`.
//  - When PID 1 has ended, someone must record that and clean up, and
//    everything heavy for that lives in skiff: with CLI_FD (a `skiff run`
//    waits in the foreground) we send the status to the CLI, which already
//    has skiff loaded, and it answers one byte when done; otherwise, or if
//    the CLI is gone before answering, we exec `skiff _exited ID STATUS`.
// This file stays small because one copy of it stays resident beside every
// running container (it links only the C library, statically).
// Lesson: lessons/01-first-container.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

// One output stream of the container, cut into lines for the log.
struct Stream {
  int fd;
  const char* name;  // "stdout" or "stderr"
  char line[8192];
  size_t used;
};

// "2026-11-27T21:00:00.123456789Z stdout hello": what `skiff logs` reads.
void log_line(int log, const Stream& s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[64];
  size_t n = strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(head + n, sizeof head - n, ".%09ldZ %s ", ts.tv_nsec, s.name);
  dprintf(log, "%s%.*s\n", head, (int)s.used, s.line);
}

// Reads what is there; logs every complete line (and a line that fills the
// buffer). Returns false at end of file, after logging what was left.
bool drain(Stream& s, int log) {
  ssize_t n = read(s.fd, s.line + s.used, sizeof s.line - s.used);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    if (s.used > 0) log_line(log, s);
    return false;
  }
  s.used += (size_t)n;
  char* start = s.line;
  for (char* nl; (nl = (char*)memchr(start, '\n', s.used - (size_t)(start - s.line)));) {
    Stream piece = s;
    piece.used = (size_t)(nl - start);
    memcpy(piece.line, start, piece.used);
    log_line(log, piece);
    start = nl + 1;
  }
  s.used -= (size_t)(start - s.line);
  memmove(s.line, start, s.used);
  if (s.used == sizeof s.line) {
    log_line(log, s);
    s.used = 0;
  }
  return true;
}

// Copies both streams into the log until the container's last writer is
// gone (PID 1's end takes its whole pid namespace, and every writer, along).
void copy_output(int out, int err, const char* log_path) {
  int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  static Stream streams[2];
  streams[0] = {out, "stdout", {}, 0};
  streams[1] = {err, "stderr", {}, 0};
  bool open_[2] = {true, true};
  while (open_[0] || open_[1]) {
    struct pollfd fds[2] = {{out, POLLIN, 0}, {err, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i)
      if (open_[i] && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        open_[i] = drain(streams[i], log >= 0 ? log : 2);
    for (int i = 0; i < 2; ++i)
      if (!open_[i]) fds[i].fd = -1;
  }
  if (log >= 0) close(log);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    fputs("skiff-monitor: started by skiff, not by hand\n", stderr);
    return 125;
  }
  // A CLI that is gone must not kill us with SIGPIPE: we record instead.
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = (pid_t)atoi(argv[4]);
  bool has_cli = strcmp(argv[5], "-") != 0, has_output = strcmp(argv[6], "-") != 0;
  if (has_output) copy_output(atoi(argv[6]), atoi(argv[7]), argv[8]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno == EINTR) continue;
    status = 255 << 8;  // not our child any more: say "exited 255", as Docker would
    break;
  }
  if (has_cli) {
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
