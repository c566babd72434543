/* libgreet 1 — lessons/00-why-containers. Version 1 of a tiny shared library. */
#ifndef GREET_H
#define GREET_H

/* Prints a greeting for NAME on standard output. */
void greet(const char *name);

#endif
