// 01-lifecycle/monitor_main.cpp — skiff-monitor: one per running container.
//
// Usage (by skiff's launcher, never by hand):
//   skiff-monitor SKIFF_BINARY STORE_ROOT CONTAINER_ID PID CLI_FD OUT_FD ERR_FD LOG ATTACH_FD
// (an argument that does not apply is "-").
//
// The launcher execs this program once the container's PID 1 runs, so PID 1
// is our child and waitpid(2) tells us how it ended.
//  - With OUT_FD (a detached container: `run -d`, `start`), we append each
//    line the container writes to LOG with its time and stream, for
//    `skiff logs`. OUT_FD and ERR_FD are two pipes, or, with -t, OUT_FD is
//    the master side of the container's pty and ERR_FD is "-".
//  - On ATTACH_FD we accept `skiff attach` clients: each receives what the
//    container writes from then on; with a pty, what a client sends
//    (framed, see attach.hpp) is typed into the terminal or resizes it.
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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "01-lifecycle/attach_protocol.hpp"

namespace {

// One output stream of the container, cut into lines for the log.
struct Stream {
  int fd;
  const char* name;  // "stdout" or "stderr"
  char line[8192];
  size_t used;
};

// A `skiff attach` client: its socket, and the frame it is sending us.
struct Client {
  int fd = -1;
  unsigned char frame[skiff::attach::kHeaderSize + skiff::attach::kMaxPayload];
  size_t used = 0;
};
Client g_clients[16];

void send_to_clients(const char* data, size_t size) {
  for (auto& c : g_clients)
    if (c.fd >= 0 && write(c.fd, data, size) < 0 && errno != EAGAIN) {
      close(c.fd);
      c.fd = -1;
    }
}

// "2026-11-27T21:00:00.123456789Z stdout hello": what `skiff logs` reads.
void log_line(int log, const Stream& s) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[64];
  size_t n = strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(head + n, sizeof head - n, ".%09ldZ %s ", ts.tv_nsec, s.name);
  int len = (int)s.used;
  if (len > 0 && s.line[len - 1] == '\r') --len;  // a terminal ends lines with \r\n
  dprintf(log, "%s%.*s\n", head, len, s.line);
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
  send_to_clients(s.line + s.used, (size_t)n);
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

void accept_client(int listener) {
  int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;
  for (auto& c : g_clients)
    if (c.fd < 0) {
      c.fd = fd;
      c.used = 0;
      return;
    }
  close(fd);  // full: the client sees its connection closed
}

// Reads what a client sent; applies each whole frame to the terminal.
void serve_client(Client& c, int terminal) {
  ssize_t n = read(c.fd, c.frame + c.used, sizeof c.frame - c.used);
  if (n <= 0) {
    close(c.fd);
    c.fd = -1;
    return;
  }
  c.used += (size_t)n;
  while (c.used >= skiff::attach::kHeaderSize) {
    unsigned len = c.frame[1] | c.frame[2] << 8 | c.frame[3] << 16 | (unsigned)c.frame[4] << 24;
    if (len > skiff::attach::kMaxPayload) {  // not our client: drop it
      close(c.fd);
      c.fd = -1;
      return;
    }
    if (c.used < skiff::attach::kHeaderSize + len) return;
    unsigned char* payload = c.frame + skiff::attach::kHeaderSize;
    if (c.frame[0] == skiff::attach::kData && terminal >= 0) {
      (void)!write(terminal, payload, len);
    } else if (c.frame[0] == skiff::attach::kWindowSize && len == 4 && terminal >= 0) {
      struct winsize ws = {};
      ws.ws_row = (unsigned short)(payload[0] | payload[1] << 8);
      ws.ws_col = (unsigned short)(payload[2] | payload[3] << 8);
      ioctl(terminal, TIOCSWINSZ, &ws);
    }
    c.used -= skiff::attach::kHeaderSize + len;
    memmove(c.frame, c.frame + skiff::attach::kHeaderSize + len, c.used);
  }
}

// Copies the container's output into the log and to attached clients until
// its last writer is gone (PID 1's end takes its whole pid namespace, and
// every writer, along; a pty then reads EIO). ERR is -1 with a pty.
void serve(int out, int err, int listener, bool terminal, const char* log_path, int cli) {
  int log = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  // `run -it`: the CLI that started the container attaches right away. Its
  // first output (a prompt, or all of a short command's) is for that CLI, so
  // nothing is read before it is connected, or gone.
  while (cli >= 0 && listener >= 0) {
    struct pollfd wait[2] = {{listener, POLLIN, 0}, {cli, POLLIN, 0}};
    if (poll(wait, 2, -1) < 0 && errno != EINTR) break;
    if (wait[0].revents & POLLIN) {
      accept_client(listener);
      break;
    }
    if (wait[1].revents & (POLLHUP | POLLERR)) break;
  }
  static Stream streams[2];
  streams[0] = {out, "stdout", {}, 0};
  streams[1] = {err, "stderr", {}, 0};
  bool open_[2] = {true, err >= 0};
  while (open_[0] || open_[1]) {
    struct pollfd fds[2 + 1 + 16];
    nfds_t n = 0;
    for (int i = 0; i < 2; ++i) fds[n++] = {open_[i] ? streams[i].fd : -1, POLLIN, 0};
    fds[n++] = {listener, POLLIN, 0};
    for (auto& c : g_clients) fds[n++] = {c.fd, POLLIN, 0};
    if (poll(fds, n, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i)
      if (open_[i] && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
        open_[i] = drain(streams[i], log >= 0 ? log : 2);
    if (listener >= 0 && (fds[2].revents & POLLIN)) accept_client(listener);
    for (int i = 0; i < 16; ++i)
      if (g_clients[i].fd >= 0 && (fds[3 + i].revents & (POLLIN | POLLHUP | POLLERR)))
        serve_client(g_clients[i], terminal ? out : -1);
  }
  // No more clients: a late `attach` is refused at once instead of waiting
  // on a socket nobody accepts from.
  if (listener >= 0) close(listener);
  for (auto& c : g_clients)
    if (c.fd >= 0) close(c.fd);  // the clients see the end
  if (log >= 0) close(log);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 10) {
    fputs("skiff-monitor: started by skiff, not by hand\n", stderr);
    return 125;
  }
  // A CLI that is gone must not kill us with SIGPIPE: we record instead.
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = (pid_t)atoi(argv[4]);
  auto fd = [&](int i) { return strcmp(argv[i], "-") == 0 ? -1 : atoi(argv[i]); };
  bool has_cli = fd(5) >= 0;
  if (fd(6) >= 0) serve(fd(6), fd(7), fd(9), fd(7) < 0, argv[8], fd(5));
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
