/* app-new — lessons/00-why-containers. Written and built against libgreet 2. */
#include <greet.h>

int main(void) {
  greet_with("Hi", "app-new");
  return 0;
}
