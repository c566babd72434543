/* app-old — lessons/00-why-containers. Written and built against libgreet 1. */
#include <greet.h>

int main(void) {
  greet("app-old");
  return 0;
}
