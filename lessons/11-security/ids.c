/* lessons/11-security/ids.c — prints who the kernel takes this process for:
 * its real uid (who started it) and its effective uid (whose rights it
 * uses). A setuid-root copy of it shows what no_new_privs changes.
 * Built static, since the busybox image has no C library. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  printf("uid %d, effective uid %d\n", (int)getuid(), (int)geteuid());
  return 0;
}
