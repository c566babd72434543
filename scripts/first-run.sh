#!/usr/bin/env bash
# `make run`: a first container, and the host beside it.
set -euo pipefail
skiff=${1:-build/bin/skiff}

if [ "$(id -u)" -ne 0 ]; then
  echo "make run starts a real container: run it as root" >&2
  exit 1
fi

show() {  # what a process sees, the same four questions asked on either side
  echo "  kernel:          $(uname -r)"
  echo "  hostname:        $(hostname)"
  echo "  my PID:          $1"
  echo "  processes seen:  $2"
  echo "  my / holds:      $(ls / | tr '\n' ' ')"
}

echo "== On the host"
show "$$" "$(ls -d /proc/[0-9]* | wc -l)"
echo
echo "== In a container (skiff run --rm busybox …)"
# shellcheck disable=SC2016  # $$ and $(…) are for the container's shell
"$skiff" run --rm busybox sh -c '
  echo "  kernel:          $(uname -r)"
  echo "  hostname:        $(hostname)"
  echo "  my PID:          $$"
  echo "  processes seen:  $(ls -d /proc/[0-9]* | wc -l)"
  echo "  my / holds:      $(ls / | tr "\n" " ")"'
echo
echo "Same kernel, its own hostname, its own PID 1, its own root."
echo "Next: skiff --explain run --rm busybox true   (every step, narrated)"
echo "      the course map: README.md; each module explains itself in runtime/README.md"
