#!/usr/bin/env bash
# Resident memory of the per-container monitor process: skiff's skiff-monitor
# next to Podman's conmon and Docker's containerd-shim-runc-v2 (when present),
# each watching the same sleeping busybox container.
#
#   tests/bench/monitor-rss.sh [OPTIONS] path/to/skiff     (make bench does this)
#
# Options:
#   --count N      containers per engine; the table gives the median (default 5)
#   --settle S     seconds to wait after the monitor appears, before reading
#                  its memory (default 1)
#   --only LIST    comma-separated subset of skiff,podman,docker
#   --no-cgroup-fix  do not mount v2-held controllers as v1 (podman's crun may fail)
#
# Result: monitor-rss.md in <build dir>/bench/ (the build dir is the one holding
# bin/skiff; BENCH_OUT overrides it). See tests/bench/README.md.
#
# Everything it makes lives in one mktemp -d directory and is removed on exit,
# Ctrl-C included: the skiff store, podman's private store, a dockerd it
# started; the containers it ran and the docker image it imported. Nothing is
# pulled: podman and docker run only the image imported from a local tarball.
set -uo pipefail

COUNT=5 SETTLE=1 ONLY="skiff,podman,docker" CGROUP_FIX=1
SKIFF=""

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --count) COUNT=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --no-cgroup-fix) CGROUP_FIX=0; shift ;;
    -h|--help) usage 0 ;;
    -*) echo "monitor-rss.sh: unknown option $1" >&2; usage 2 ;;
    *) SKIFF=$1; shift ;;
  esac
done

LOG_TAG=monitor-rss
. "$(dirname "$0")/lib.sh"

check_skiff
case $COUNT in ''|*[!0-9]*|0) die "--count wants a positive number" ;; esac
resolve_paths

# --------------------------------------------------------------------------
# Clean-up, on every exit path.
# --------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/skiff-mrss.XXXXXX)
export SKIFF_ROOT=$WORK/store
DOCKERD_PID="" DOCKER_IMAGE="skiff-bench/busybox:latest" DOCKER_IMPORTED=0 DOCKER_USED=0
PODMAN=() PODMAN_USED=0 CG_MOUNTED=()
IDS=()          # every container id started, all engines (for the final check)
CLEANED=0

cleanup() {
  [ "$CLEANED" -eq 1 ] && return
  CLEANED=1
  trap '' INT TERM
  say "cleaning up"
  # skiff: every container of our store.
  if [ -d "$SKIFF_ROOT/containers" ]; then skiff_rm_all; fi
  # docker: our containers (label) and the image we imported, then our dockerd.
  if [ "$DOCKER_USED" -eq 1 ]; then docker_rm_ours; fi
  stop_dockerd
  # podman: its store is private to $WORK.
  podman_reset -t 0
  # any mount still under $WORK (overlays of skiff/podman/docker), deepest first
  remove_work
  # the check: no process left that names our store or one of our containers
  local left="" id
  left+=$(pgrep -f "$WORK" | tr '\n' ' ')
  for id in "${IDS[@]}"; do left+=$(pgrep -f "$id" | tr '\n' ' '); done
  for id in "${IDS[@]}"; do left+=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -name "*$id*" 2>/dev/null | tr '\n' ' '); done
  if [ -n "${left// /}" ]; then warn "left behind: $left"; else say "nothing left behind (containers, monitors, cgroups, stores, images)"; fi
  cg_unfix
}
set_traps

# --------------------------------------------------------------------------
# Host: cgroups (as in run.sh: crun refuses a hybrid host whose cgroup2 holds
# a controller; podman runs crun here).
# --------------------------------------------------------------------------
if [ "$CGROUP_FIX" -eq 1 ] && wanted podman && command -v podman >/dev/null; then
  cg_fix "hybrid cgroups: mounting '%s' as v1 (crun refuses to start otherwise):" "podman may fail"
fi

# --------------------------------------------------------------------------
# Measuring one process.
# --------------------------------------------------------------------------
# find_monitor EXE PATTERN: the one pid whose executable is named EXE and whose
# command line matches PATTERN (an extended regex), waiting up to 10 s.
find_monitor() {
  local exe=$1 pat=$2 p found
  for _ in $(seq 100); do
    found=""
    for p in $(pgrep -f -- "$pat"); do
      [ "$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")" = "$exe" ] && found+="$p "
    done
    set -- $found
    if [ $# -eq 1 ]; then echo "$1"; return 0; fi
    [ $# -gt 1 ] && { warn "more than one $exe matches '$pat': $found"; return 1; }
    sleep 0.1
  done
  return 1
}
# mem PID: "VmRSS Pss" in kB (Pss from smaps_rollup, or summed from smaps)
mem() {
  local rss pss
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null)
  if [ -r "/proc/$1/smaps_rollup" ]; then
    pss=$(awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null)
  else
    pss=$(awk '/^Pss:/ {s += $2} END {print s}' "/proc/$1/smaps" 2>/dev/null)
  fi
  [ -n "$rss" ] && [ -n "$pss" ] && echo "$rss $pss"
}
# others EXE PID: how many processes other than PID run the executable EXE
# (another store's monitors, e.g. a test run): they share its file pages, and
# so lower its Pss (not its VmRSS).
others() {
  local n=0 p
  for p in $(pgrep -f -- "$1"); do
    [ "$p" = "$2" ] && continue
    [ "$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")" = "$1" ] && n=$((n + 1))
  done
  echo "$n"
}
median() { sort -n | awk '{v[NR] = $1} END {if (NR == 0) exit 1; if (NR % 2) print v[(NR + 1) / 2]; else print int((v[NR / 2] + v[NR / 2 + 1]) / 2 + 0.5)}'; }

names=() procs=() rss_samples=() pss_samples=() cmdlines=() sharers=()
# measure NAME EXE START STOP PATTERN-PREFIX: COUNT times, one container at a
# time: START prints the new container's id; the monitor is the EXE process
# whose command line matches PATTERN-PREFIX followed by that id; after SETTLE
# seconds its memory is read; then STOP removes the container. One at a time,
# so that no sibling monitor shares (and so halves) the Pss of its pages.
measure() {
  local name=$1 exe=$2 start=$3 stop=$4 pfx=$5 i id pid m o maxo=0 rs="" ps="" cmd=""
  say "measuring $name: $COUNT containers, one at a time"
  for i in $(seq "$COUNT"); do
    id=$($start 2>"$WORK/$name.err" | tail -n 1)
    if [ -z "$id" ]; then warn "$name: could not start a container ($(tail -n 3 "$WORK/$name.err" | tr '\n' ' ')); skipped"; return 1; fi
    IDS+=("$id")
    if ! pid=$(find_monitor "$exe" "$pfx.*$id"); then
      warn "$name: no $exe process for container ${id:0:12}; skipped"; $stop "$id" >/dev/null 2>&1; return 1
    fi
    sleep "$SETTLE"
    if ! m=$(mem "$pid"); then warn "$name: $exe ($pid) gone before it was read; skipped"; $stop "$id" >/dev/null 2>&1; return 1; fi
    [ -z "$cmd" ] && cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" | sed "s|$id|<id>|g; s|$WORK|\$WORK|g; s| \$||")
    o=$(others "$exe" "$pid")
    [ "$o" -gt "$maxo" ] && maxo=$o
    set -- $m
    rs+="$1 " ps+="$2 "
    say "  $name #$i: $exe pid $pid  VmRSS $1 kB  Pss $2 kB  (other $exe processes on the host: $o)"
    $stop "$id" >/dev/null 2>&1 || warn "$name: could not remove ${id:0:12}"
  done
  [ "$maxo" -gt 0 ] && warn "$name: up to $maxo other $exe processes ran meanwhile (not ours): they share its pages, so its Pss reads low; VmRSS is unaffected"
  names+=("$name") procs+=("$exe") rss_samples+=("$rs") pss_samples+=("$ps") cmdlines+=("$cmd") sharers+=("$maxo")
}

# --------------------------------------------------------------------------
# skiff: its built-in busybox, in a store of its own.
# --------------------------------------------------------------------------
say "skiff store: $SKIFF_ROOT"
"$SKIFF" run --rm busybox true || die "skiff run --rm busybox true failed"
skiff_start() { "$SKIFF" run -d busybox sleep 60; }
skiff_stop()  { "$SKIFF" rm -f "$1"; }
if wanted skiff; then
  measure skiff skiff-monitor skiff_start skiff_stop "skiff-monitor .*$SKIFF_ROOT"
fi

LAYER=""
for d in "$SKIFF_ROOT"/images/layers/*/; do [ -x "${d}bin/sleep" ] && LAYER=${d%/}; done
TARBALL=$WORK/busybox-rootfs.tar
make_tarball() {
  [ -n "$LAYER" ] || { warn "no unpacked busybox layer under $SKIFF_ROOT/images/layers"; return 1; }
  [ -f "$TARBALL" ] || tar -C "$LAYER" -cf "$TARBALL" .
}

# --------------------------------------------------------------------------
# podman: conmon, in a store of its own, on the imported tarball.
# --------------------------------------------------------------------------
podman_start() { "${PODMAN[@]}" run -d --network none $PULIMIT skiff-bench/busybox:latest sleep 60; }
podman_stop()  { "${PODMAN[@]}" rm -f -t 0 "$1"; }
if wanted podman; then
  if command -v podman >/dev/null && command -v conmon >/dev/null; then
    podman_setup
    if make_tarball && "${PODMAN[@]}" import -q "$TARBALL" skiff-bench/busybox:latest >/dev/null 2>"$WORK/podman.err"; then
      measure podman conmon podman_start podman_stop "conmon .*"
    else warn "podman import failed ($(tail -n 3 "$WORK/podman.err" | tr '\n' ' ')); skipped"; fi
  else say "podman (or conmon) not installed; skipped"; fi
fi

# --------------------------------------------------------------------------
# docker: containerd-shim-runc-v2, on the imported tarball; a dockerd of our
# own (private socket and data root, no iptables, no bridge) if none answers.
# --------------------------------------------------------------------------
docker_start() { docker run -d --network none --label skiff-bench=1 "$DOCKER_IMAGE" sleep 60; }
docker_stop()  { docker rm -f "$1"; }
if wanted docker; then
  if command -v docker >/dev/null; then
    if ! timeout 10 docker info >/dev/null 2>&1 && command -v dockerd >/dev/null; then start_dockerd; fi
    if timeout 10 docker info >/dev/null 2>&1; then
      DOCKER_USED=1
      if make_tarball && docker import "$TARBALL" "$DOCKER_IMAGE" >/dev/null 2>"$WORK/docker.err"; then
        DOCKER_IMPORTED=1
        measure docker containerd-shim-runc-v2 docker_start docker_stop "containerd-shim-runc-v2 .*-id "
      else warn "docker import failed ($(tail -n 3 "$WORK/docker.err" | tr '\n' ' ')); skipped"; fi
    else
      say "docker: no daemon answers$(command -v dockerd >/dev/null || echo ' and dockerd is not installed'); skipped"
    fi
  else say "docker not installed; skipped"; fi
fi

[ ${#names[@]} -gt 0 ] || die "nothing measured"
[ "${names[0]}" = skiff ] || warn "skiff not measured: ratios are to ${names[0]}"

# --------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------
versions=$(
  echo "skiff: $("$SKIFF" --version 2>/dev/null | head -1)"
  for n in "${names[@]}"; do
    case $n in
      podman) echo "podman: $(podman --version), conmon: $(conmon --version 2>/dev/null | head -1)" ;;
      docker) echo "docker: $(docker version -f 'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null), $(containerd --version 2>/dev/null | awk '{print "containerd " $3}')" ;;
    esac
  done
)
host="$(uname -sr), $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
now=$(date '+%Y-%m-%d %H:%M %Z')

rows=() base=""
printf '\n%-8s %-26s %14s %12s %15s\n' engine "monitor process" "VmRSS kB" "Pss kB" "ratio (VmRSS)"
for i in "${!names[@]}"; do
  r=$(echo "${rss_samples[$i]}" | tr ' ' '\n' | grep . | median)
  p=$(echo "${pss_samples[$i]}" | tr ' ' '\n' | grep . | median)
  [ -z "$base" ] && base=$r
  ratio=$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
  printf '%-8s %-26s %14s %12s %14sx\n' "${names[$i]}" "${procs[$i]}" "$r" "$p" "$ratio"
  rows+=("| ${names[$i]} | \`${procs[$i]}\` | $r | $p | ${ratio}× | ${rss_samples[$i]% } | ${pss_samples[$i]% } | ${sharers[$i]} |")
  eval "med_${names[$i]}=$r"
done
echo "medians of $COUNT containers each; ratio = engine VmRSS median / skiff's"
goal=""
if [ -n "${med_skiff:-}" ] && [ -n "${med_podman:-}" ]; then
  if [ "$med_skiff" -le "$med_podman" ]; then goal="met: skiff-monitor's VmRSS ($med_skiff kB) is no more than conmon's ($med_podman kB)"
  else goal="NOT met: skiff-monitor's VmRSS ($med_skiff kB) is above conmon's ($med_podman kB)"; fi
  echo "goal (skiff-monitor VmRSS <= conmon VmRSS): $goal"
fi

mkdir -p "$OUT" || die "cannot make $OUT"
{
  echo "# skiff monitor memory — $now"
  echo
  echo "Host: $host."
  echo
  echo "Resident memory of the process that watches one running container (\`sleep 60\`"
  echo "in busybox), read from \`/proc/PID/status\` (VmRSS) and \`/proc/PID/smaps_rollup\` (Pss)"
  echo "${SETTLE} s after it appeared; median of $COUNT containers per engine, started one at a"
  echo "time. Ratio = engine VmRSS median / skiff's. 'other such processes': the most processes"
  echo "of the same executable, not ours, running meanwhile; they share its file pages and so"
  echo "lower its Pss (not its VmRSS)."
  echo
  echo "| engine | monitor process | VmRSS median kB | Pss median kB | ratio to skiff | VmRSS samples kB | Pss samples kB | other such processes |"
  echo "|---|---|---:|---:|---:|---|---|---:|"
  printf '%s\n' "${rows[@]}"
  echo
  [ -n "$goal" ] && { echo "Goal (skiff-monitor's VmRSS no more than conmon's): $goal."; echo; }
  echo "Monitor command lines (\$WORK: the run's mktemp -d, since removed):"
  echo
  for i in "${!names[@]}"; do echo "- ${names[$i]}: \`${cmdlines[$i]}\`"; done
  echo
  echo "Versions:"
  echo
  echo "$versions" | sed 's/^/- /'
} > "$OUT/monitor-rss.md"
say "results: $OUT/monitor-rss.md"
