/* libgreet 2 — lessons/00-why-containers. Same soname as version 1
 * (libgreet.so.1), different symbols: greet() was replaced by greet_with(). */
#include <stdio.h>

#include "greet.h"

void greet_with(const char *greeting, const char *name) {
  printf("%s, %s! (libgreet 2)\n", greeting, name);
}
