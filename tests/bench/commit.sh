#!/usr/bin/env bash
# `skiff commit` of a container holding 100 MiB of changes, next to
# `podman commit` of the same changes (lesson 05-images: what commit costs).
#
#   tests/bench/commit.sh [OPTIONS] path/to/skiff      (run.sh calls it too)
#
# Options:
#   --runs N      timed commits per engine, each of a fresh container   (default 5)
#   --mib N       MiB of random data each container writes, in 4 files  (default 100)
#   --only LIST   comma-separated subset of skiff,podman
#
# Each run makes a new container that writes N MiB from /dev/urandom (not
# timed), then times one commit of it (wall clock, date +%s%N) and removes
# the container and the new image. Fresh data every time: a commit that
# found its layer already stored would skip the work. podman gets its own
# store in the work dir and a busybox image imported from a local tarball of
# skiff's own busybox layer (never pulled); its container's files are
# written through `podman mount`, so no OCI runtime or cgroup is involved,
# and both engines commit a container that is not running (no pause).
# Results: a table on stdout and commit.md in <build dir>/bench/.
# Everything lives in one mktemp -d directory, removed on exit.
set -uo pipefail

RUNS=5 MIB=100 ONLY="skiff,podman" SKIFF=""
usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --mib) MIB=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "commit.sh: unknown option $1" >&2; usage 2 ;;
    *) SKIFF=$1; shift ;;
  esac
done

LOG_TAG=commit
. "$(dirname "$0")/lib.sh"
check_skiff
resolve_paths

WORK=$(mktemp -d /tmp/skiff-bench-commit.XXXXXX)
export SKIFF_ROOT=$WORK/store
PODMAN=() PODMAN_USED=0 CG_MOUNTED=() DOCKERD_PID=""
CLEANED=0
cleanup() {
  [ "$CLEANED" -eq 1 ] && return
  CLEANED=1
  trap '' INT TERM
  [ -d "$SKIFF_ROOT/containers" ] && skiff_rm_all
  podman_reset
  remove_work
}
set_traps

# The changes: MIB MiB of random bytes in four files, written inside ROOT.
write_changes() {  # write_changes ROOT
  local k
  for k in 0 1 2 3; do
    dd if=/dev/urandom of="$1/data$k" bs=1M count=$((MIB / 4)) status=none || return 1
  done
}
# Milliseconds that COMMAND... takes; its output goes to $WORK/out.
time_ms() {
  local start end
  start=$(date +%s%N)
  "$@" >"$WORK/out" 2>>"$WORK/err" || return 1
  end=$(date +%s%N)
  echo $(((end - start) / 1000000))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A TIMES=()

if wanted skiff; then
  say "skiff: $RUNS commits of a container with $MIB MiB of changes"
  "$SKIFF" run --rm busybox true || die "skiff run --rm busybox true failed"
  t=()
  for i in $(seq "$RUNS"); do
    # the container writes its own changes (through its overlay)
    "$SKIFF" run --name "sbc$i" busybox sh -c \
      "for k in 0 1 2 3; do dd if=/dev/urandom of=/data\$k bs=1048576 count=$((MIB / 4)) 2>/dev/null; done" \
      || die "skiff run failed"
    ms=$(time_ms "$SKIFF" commit "sbc$i" "bench/skiff:$i") || die "skiff commit failed: $(tail -n 2 "$WORK/err")"
    t+=("$ms")
    "$SKIFF" rm "sbc$i" >/dev/null
    "$SKIFF" rmi "bench/skiff:$i" >/dev/null 2>&1  # if rmi is there: keeps the disk use flat
  done
  TIMES[skiff]="${t[*]}"
  say "skiff commit ms: ${t[*]}"
fi

if wanted podman; then
  if command -v podman >/dev/null; then
    podman_setup
    LAYER=""
    for d in "$SKIFF_ROOT"/images/layers/*/; do [ -x "${d}bin/busybox" ] && LAYER=${d%/}; done
    if [ -z "$LAYER" ]; then "$SKIFF" run --rm busybox true; for d in "$SKIFF_ROOT"/images/layers/*/; do [ -x "${d}bin/busybox" ] && LAYER=${d%/}; done; fi
    tar -C "$LAYER" -cf "$WORK/busybox.tar" . || die "tar of the busybox layer failed"
    "${PODMAN[@]}" import -q "$WORK/busybox.tar" bench/busybox:latest >/dev/null 2>>"$WORK/err" \
      || die "podman import failed: $(tail -n 2 "$WORK/err")"
    say "podman: $RUNS commits of a container with $MIB MiB of changes"
    t=()
    for i in $(seq "$RUNS"); do
      "${PODMAN[@]}" create --name "pbc$i" bench/busybox:latest true >/dev/null 2>>"$WORK/err" || die "podman create failed"
      mnt=$("${PODMAN[@]}" mount "pbc$i") || die "podman mount failed"
      write_changes "$mnt" || die "writing into $mnt failed"
      "${PODMAN[@]}" unmount "pbc$i" >/dev/null
      ms=$(time_ms "${PODMAN[@]}" commit -q "pbc$i" "bench/podman:$i") || die "podman commit failed: $(tail -n 2 "$WORK/err")"
      t+=("$ms")
      "${PODMAN[@]}" rm "pbc$i" >/dev/null 2>&1
      "${PODMAN[@]}" rmi "bench/podman:$i" >/dev/null 2>&1
    done
    TIMES[podman]="${t[*]}"
    say "podman commit ms: ${t[*]}"
  else
    say "podman not installed; skipped"
  fi
fi

[ -n "${TIMES[skiff]:-}" ] || die "skiff was not measured"
base=$(median ${TIMES[skiff]})
table="| engine | median ms | ratio to skiff | runs (ms) |
|---|---:|---:|---|"
for n in skiff podman; do
  [ -n "${TIMES[$n]:-}" ] || continue
  m=$(median ${TIMES[$n]})
  ratio=$(awk -v a="$m" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
  table+="
| $n | $m | ${ratio}× | ${TIMES[$n]} |"
done
echo
echo "$table"
echo "ratio = engine median / skiff median (above 1: slower than skiff)"
mkdir -p "$OUT" && {
  echo "# commit of a container with $MIB MiB of changes — $(date '+%Y-%m-%d %H:%M %Z')"
  echo
  echo "Host: $(uname -sr), $(nproc) cores. Wall time of one commit; each run commits a fresh container."
  echo
  echo "$table"
  echo
  echo "Versions: skiff $("$SKIFF" --version 2>/dev/null | head -1); $(podman --version 2>/dev/null)"
} > "$OUT/commit.md"
say "results: $OUT/commit.md"
