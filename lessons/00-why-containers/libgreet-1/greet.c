/* libgreet 1 — lessons/00-why-containers.
 * Built as libgreet.so.1: the soname is the name programs record, and the
 * one file the dynamic loader looks for when they start. */
#include <stdio.h>

#include "greet.h"

void greet(const char *name) {
  printf("Hello, %s! (libgreet 1)\n", name);
}
