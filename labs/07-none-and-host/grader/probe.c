/* labs/07-none-and-host/grader/probe.c — looks at the network stack it runs
 * in and says what it sees. The checks run it as the command of the
 * student's netns-lab (netns-lab MODE [PID] -- probe OP ...) and read its
 * output. It reads nothing from /sys: sysfs shows the namespace of whoever
 * mounted it, while /proc/self/ns/net, /proc/net (= /proc/self/net) and a
 * socket made here all show the probe's own.
 *
 * usage: probe OP [ARG...]
 *   netns          the inode of /proc/self/ns/net, in decimal
 *   devices        the names of the devices in /proc/net/dev, one a line
 *   lo             "lo up" or "lo down": IFF_UP, read with SIOCGIFFLAGS on a
 *                  socket made here
 *   tcp-self TOKEN listens on 127.0.0.1 (a port the kernel picks), connects
 *                  to it, sends TOKEN through the accepted connection and
 *                  prints what the client received
 *   connect PORT   connects to 127.0.0.1:PORT and prints what it reads until
 *                  the other side closes
 *   say TEXT       prints TEXT: the command ran
 * Exit code 0; 1 with "probe: WHAT: strerror" on stderr when a call fails;
 * 2: usage. Every socket has a 5 s timeout: nothing waits for long.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "probe: %s: %s\n", what, strerror(errno));
  return 1;
}

static int tcp_socket(void) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  struct timeval tv = {.tv_sec = 5};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return s;
}

static struct sockaddr_in loopback(unsigned port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* Reads S until end of file (or the timeout) and prints it. */
static int print_all(int s) {
  char buf[512];
  ssize_t n;
  while ((n = read(s, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
  if (n < 0) return fail("read");
  putchar('\n');
  return 0;
}

static int netns(void) {
  struct stat st;
  if (stat("/proc/self/ns/net", &st) != 0) return fail("stat /proc/self/ns/net");
  printf("%llu\n", (unsigned long long)st.st_ino);
  return 0;
}

static int devices(void) {
  FILE* f = fopen("/proc/net/dev", "r");
  if (f == NULL) return fail("open /proc/net/dev");
  char line[512];
  for (int i = 0; fgets(line, sizeof line, f) != NULL; ++i) {
    if (i < 2) continue; /* two lines of headers */
    char* colon = strchr(line, ':');
    if (colon == NULL) continue;
    *colon = '\0';
    char* name = line;
    while (*name == ' ') ++name;
    printf("%s\n", name);
  }
  fclose(f);
  return 0;
}

static int lo(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return fail("socket");
  struct ifreq req;
  memset(&req, 0, sizeof req);
  strcpy(req.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &req) != 0) return fail("ioctl(SIOCGIFFLAGS, lo)");
  printf("lo %s\n", (req.ifr_flags & IFF_UP) ? "up" : "down");
  close(s);
  return 0;
}

static int tcp_self(const char* token) {
  int server = tcp_socket();
  if (server < 0) return fail("socket");
  struct sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (bind(server, (struct sockaddr*)&a, sizeof a) != 0) return fail("bind 127.0.0.1");
  if (listen(server, 1) != 0) return fail("listen");
  if (getsockname(server, (struct sockaddr*)&a, &len) != 0) return fail("getsockname");
  int client = tcp_socket();
  if (client < 0) return fail("socket");
  if (connect(client, (struct sockaddr*)&a, sizeof a) != 0) return fail("connect 127.0.0.1");
  int conn = accept(server, NULL, NULL);
  if (conn < 0) return fail("accept");
  size_t n = strlen(token);
  if (write(conn, token, n) != (ssize_t)n) return fail("write");
  close(conn);
  return print_all(client);
}

static int connect_to(const char* port) {
  int s = tcp_socket();
  if (s < 0) return fail("socket");
  struct sockaddr_in a = loopback((unsigned)atoi(port));
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return fail("connect 127.0.0.1");
  return print_all(s);
}

int main(int argc, char* argv[]) {
  const char* op = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (strcmp(op, "netns") == 0) rc = netns();
  else if (strcmp(op, "devices") == 0) rc = devices();
  else if (strcmp(op, "lo") == 0) rc = lo();
  else if (strcmp(op, "tcp-self") == 0 && argc > 2) rc = tcp_self(argv[2]);
  else if (strcmp(op, "connect") == 0 && argc > 2) rc = connect_to(argv[2]);
  else if (strcmp(op, "say") == 0 && argc > 2) { printf("%s\n", argv[2]); rc = 0; }
  else fprintf(stderr, "usage: probe netns|devices|lo|tcp-self TOKEN|connect PORT|say TEXT\n");
  fflush(stdout);
  return rc;
}
