/* libgreet 2 — lessons/00-why-containers. The API changed: greet() is gone,
 * greet_with() takes the greeting too. The soname stayed libgreet.so.1, a
 * mistake that happens: the file name promises a compatibility the code broke. */
#ifndef GREET_H
#define GREET_H

/* Prints "GREETING, NAME!" on standard output. */
void greet_with(const char *greeting, const char *name);

#endif
