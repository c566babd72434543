#!/usr/bin/env bash
# Start-to-exit latency of `skiff run --rm busybox true` next to crun, runc
# and (when present) podman and docker, all on the same busybox rootfs.
#
#   tests/bench/run.sh [OPTIONS] path/to/skiff        (make bench does this)
#
# Options:
#   --runs N           timed runs for skiff, crun, runc          (default 50)
#   --warmup N         untimed warm-up runs for those            (default 5)
#   --engine-runs N    timed runs for podman, docker             (default 15)
#   --engine-warmup N  warm-up runs for podman, docker           (default 3)
#   --with-engines     install podman and docker.io if missing (never by default)
#   --no-cgroup-fix    do not mount v2-held controllers as v1 (crun may be skipped)
#   --only LIST        comma-separated subset of skiff,crun,runc,podman,docker
#
# Results: hyperfine JSON and latest.md in <build dir>/bench/ (the build dir is
# the one holding bin/skiff; BENCH_OUT overrides it). See tests/bench/README.md.
#
# Everything it makes lives in one mktemp -d directory and is removed on exit,
# Ctrl-C included: the skiff store, the OCI bundles, the crun/runc state roots,
# a dockerd it started, podman's private store. The one thing it may leave is a
# cgroup v1 mount of the controllers cgroup2 held (hugetlb here), which crun
# needs on a hybrid host; it says so when it makes it.
set -uo pipefail

RUNS=50 WARMUP=5 ENGINE_RUNS=15 ENGINE_WARMUP=3
WITH_ENGINES=0 CGROUP_FIX=1 ONLY="skiff,crun,runc,podman,docker"
SKIFF=""

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --engine-runs) ENGINE_RUNS=$2; shift 2 ;;
    --engine-warmup) ENGINE_WARMUP=$2; shift 2 ;;
    --with-engines) WITH_ENGINES=1; shift ;;
    --no-cgroup-fix) CGROUP_FIX=0; shift ;;
    --only) ONLY=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; usage 2 ;;
    *) SKIFF=$1; shift ;;
  esac
done

LOG_TAG=bench
. "$(dirname "$0")/lib.sh"

check_skiff
resolve_paths

# --------------------------------------------------------------------------
# Tools from Debian, only those missing.
# --------------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
command -v python3 >/dev/null || need+=(python3)
wanted crun && ! command -v crun >/dev/null && need+=(crun)
wanted runc && ! command -v runc >/dev/null && need+=(runc)
if [ "$WITH_ENGINES" -eq 1 ]; then
  wanted podman && ! command -v podman >/dev/null && need+=(podman conmon)
  wanted docker && ! command -v dockerd >/dev/null && need+=(docker.io)
fi
if [ ${#need[@]} -gt 0 ]; then
  apt_install "${need[@]}" || die "apt-get install ${need[*]} failed"
fi
command -v hyperfine >/dev/null || die "hyperfine missing"

# --------------------------------------------------------------------------
# Clean-up, on every exit path.
# --------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/skiff-bench.XXXXXX)
export SKIFF_ROOT=$WORK/store
CRUN_STATE=$WORK/crun-state RUNC_STATE=$WORK/runc-state
ID_PREFIX="skb$$-"
DOCKERD_PID="" DOCKER_IMAGE="skiff-bench/busybox:latest" DOCKER_IMPORTED=0
PODMAN=() PODMAN_USED=0 CG_MOUNTED=()
CLEANED=0

skiff_ids() {  # every container id in our store, live or half-made
  ls -A "$SKIFF_ROOT/containers" 2>/dev/null | sed -n 's/^\(\.new-\|\.rm-\)\{0,1\}\([0-9a-f]\{64\}\)$/\2/p'
}
skiff_cgroups() {  # every per-container cgroup dir skiff has on the host
  find /sys/fs/cgroup -mindepth 3 -maxdepth 3 -type d -path '/sys/fs/cgroup/*/skiff/*' 2>/dev/null | sort
}
CG_BEFORE=$(skiff_cgroups)

cleanup() {
  [ "$CLEANED" -eq 1 ] && return
  CLEANED=1
  trap '' INT TERM
  say "cleaning up"
  # skiff: remove every container of our store, then any cgroup it left.
  if [ -d "$SKIFF_ROOT/containers" ]; then
    skiff_rm_all
    local id d
    for id in $(skiff_ids); do
      for d in /sys/fs/cgroup/*/skiff/"$id"; do
        [ -d "$d" ] || continue
        # a process still inside? kill it, then remove the cgroup
        xargs -r kill -9 < "$d/cgroup.procs" 2>/dev/null; sleep 0.1
        rmdir "$d" 2>/dev/null || warn "could not remove $d"
      done
    done
  fi
  # crun / runc: our private state roots, plus the default roots in case.
  local c
  if command -v crun >/dev/null; then
    for c in $(crun --root "$CRUN_STATE" list -q 2>/dev/null); do crun --root "$CRUN_STATE" delete -f "$c" >/dev/null 2>&1; done
    for c in $(crun list -q 2>/dev/null | grep "^$ID_PREFIX"); do crun delete -f "$c" >/dev/null 2>&1; done
  fi
  if command -v runc >/dev/null; then
    for c in $(runc --root "$RUNC_STATE" list -q 2>/dev/null); do runc --root "$RUNC_STATE" delete -f "$c" >/dev/null 2>&1; done
    for c in $(runc list -q 2>/dev/null | grep "^$ID_PREFIX"); do runc delete -f "$c" >/dev/null 2>&1; done
  fi
  # cgroups crun/runc made for our ids (they remove them on a normal exit)
  find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "$ID_PREFIX*" 2>/dev/null | sort -r | xargs -r rmdir 2>/dev/null
  # docker: our containers and the image we imported, then a dockerd we started.
  if [ -n "${DOCKER_HOST_SET:-}" ] || [ "$DOCKER_IMPORTED" -eq 1 ]; then docker_rm_ours; fi
  stop_dockerd " (log was $WORK/dockerd.log)"
  # podman: its store is private to $WORK.
  podman_reset
  # any mount still under $WORK (overlay of docker/podman), deepest first
  remove_work
  # the checks: no skiff cgroup dir that appeared during the bench, no
  # crun/runc container or cgroup of ours
  local left="" newcg others=""
  # --rm leaves no record of an id, so look at every skiff cgroup dir that
  # appeared meanwhile: one that still has a process belongs to a container
  # that is running now (someone else's: all of ours have exited); one that
  # is empty and stays so for a few seconds has leaked, whoever made it.
  for _ in 1 2 3 4 5 6; do
    newcg=$(comm -13 <(echo "$CG_BEFORE") <(skiff_cgroups))
    [ -z "$newcg" ] && break
    sleep 0.5
  done
  for d in $newcg; do
    [ -d "$d" ] || continue
    if [ -n "$(cat "$d/cgroup.procs" 2>/dev/null)" ]; then others+=" ${d##*/}"; else left+=" $d"; fi
  done
  [ -n "$others" ] && say "skiff containers running now that are not ours (another store):$(echo "$others" | tr ' ' '\n' | sort -u | cut -c1-12 | tr '\n' ' ')"
  left+=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "$ID_PREFIX*" 2>/dev/null | tr '\n' ' ')
  command -v crun >/dev/null && left+=$(crun list -q 2>/dev/null | grep "^$ID_PREFIX" | tr '\n' ' ')
  command -v runc >/dev/null && left+=$(runc list -q 2>/dev/null | grep "^$ID_PREFIX" | tr '\n' ' ')
  if [ -n "${left// /}" ]; then warn "left behind:$left"; else say "nothing left behind (cgroups, crun/runc containers, store, bundles)"; fi
  cg_unfix
}
set_traps

# --------------------------------------------------------------------------
# Host: cgroups.
# --------------------------------------------------------------------------
if [ "$CGROUP_FIX" -eq 1 ] && { wanted crun || wanted podman; }; then
  cg_fix "hybrid cgroups: cgroup2 holds '%s'; crun refuses to start so. Mounting it as v1:" "crun will likely be skipped"
fi

# --------------------------------------------------------------------------
# The rootfs: skiff's own built-in busybox, unpacked by a first run.
# --------------------------------------------------------------------------
say "skiff store: $SKIFF_ROOT"
"$SKIFF" run --rm busybox true || die "skiff run --rm busybox true failed"
LAYER=""
for d in "$SKIFF_ROOT"/images/layers/*/; do [ -x "${d}bin/true" ] && LAYER=${d%/}; done
[ -n "$LAYER" ] || die "no unpacked busybox layer under $SKIFF_ROOT/images/layers"
say "busybox rootfs: $LAYER"

make_bundle() {  # make_bundle runtime dir
  local rt=$1 b=$2
  mkdir -p "$b" && cp -a "$LAYER" "$b/rootfs" || return 1
  (cd "$b" && rm -f config.json && "$rt" spec) || return 1
  python3 - "$b/config.json" "$rt" <<'PY'
import json, sys
path, rt = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["hostname"] = "bench-" + rt
json.dump(c, open(path, "w"), indent=2)
PY
}

# --------------------------------------------------------------------------
# Which engines, each checked with one real run before it is timed.
# --------------------------------------------------------------------------
names=() cmds=() kinds=()
add() { names+=("$1"); cmds+=("$2"); kinds+=("$3"); }
q() { printf '%q' "$1"; }

# Every command is run by hyperfine as `sh -c '<cmd>'` and starts with `exec`,
# so each engine pays the same wrapper (and hyperfine subtracts the shell's
# start-up). $$ is that per-run shell's pid: a unique container id per run.
wanted skiff && add skiff "exec $(q "$SKIFF") run --rm busybox true" core

if wanted crun; then
  if ! command -v crun >/dev/null; then warn "crun not installed; skipped"
  elif make_bundle crun "$WORK/crun-bundle"; then
    if out=$(crun --root "$CRUN_STATE" run --bundle "$WORK/crun-bundle" "${ID_PREFIX}check" </dev/null 2>&1); then
      add crun "exec crun --root $(q "$CRUN_STATE") run --bundle $(q "$WORK/crun-bundle") ${ID_PREFIX}crun-\$\$" core
    else warn "crun does not start here ($out); skipped"; fi
  else warn "could not make the crun bundle; crun skipped"; fi
fi
if wanted runc; then
  if ! command -v runc >/dev/null; then warn "runc not installed; skipped"
  elif make_bundle runc "$WORK/runc-bundle"; then
    if out=$(runc --root "$RUNC_STATE" run --bundle "$WORK/runc-bundle" "${ID_PREFIX}check" </dev/null 2>&1); then
      add runc "exec runc --root $(q "$RUNC_STATE") run --bundle $(q "$WORK/runc-bundle") ${ID_PREFIX}runc-\$\$" core
    else warn "runc does not start here ($out); skipped"; fi
  else warn "could not make the runc bundle; runc skipped"; fi
fi

TARBALL=$WORK/busybox-rootfs.tar
make_tarball() { [ -f "$TARBALL" ] || tar -C "$LAYER" -cf "$TARBALL" .; }

if wanted podman; then
  if command -v podman >/dev/null; then
    podman_setup
    if make_tarball && "${PODMAN[@]}" import -q "$TARBALL" skiff-bench/busybox:latest >/dev/null 2>"$WORK/podman.err" \
       && "${PODMAN[@]}" run --rm --network none $PULIMIT skiff-bench/busybox:latest true 2>>"$WORK/podman.err"; then
      pc=""; for w in "${PODMAN[@]}"; do pc+="$(q "$w") "; done
      add podman "exec ${pc}run --rm --network none $PULIMIT skiff-bench/busybox:latest true" engine
    else warn "podman does not run here ($(tail -n 3 "$WORK/podman.err" | tr '\n' ' ')); skipped"; fi
  else say "podman not installed; skipped (--with-engines installs it)"; fi
fi

if wanted docker; then
  if command -v docker >/dev/null; then
    if ! timeout 10 docker info >/dev/null 2>&1; then
      if command -v dockerd >/dev/null; then
        # No daemon answering: start one of our own.
        export DOCKER_HOST_SET=1
        start_dockerd
      fi
    else
      DOCKER_HOST_SET=1
    fi
    if timeout 10 docker info >/dev/null 2>&1; then
      if make_tarball && docker import "$TARBALL" "$DOCKER_IMAGE" >/dev/null 2>"$WORK/docker.err"; then
        DOCKER_IMPORTED=1
        if docker run --rm --network none --label skiff-bench=1 "$DOCKER_IMAGE" true 2>>"$WORK/docker.err"; then
          add docker "exec docker run --rm --network none --label skiff-bench=1 $DOCKER_IMAGE true" engine
        else warn "docker run fails here ($(tail -n 3 "$WORK/docker.err" | tr '\n' ' ')); skipped"; fi
      else warn "docker import failed ($(tail -n 3 "$WORK/docker.err" | tr '\n' ' ')); skipped"; fi
    else
      say "docker: no daemon answers$(command -v dockerd >/dev/null || echo ' and dockerd is not installed'); skipped (--with-engines installs docker.io)"
    fi
  else say "docker not installed; skipped (--with-engines installs docker.io)"; fi
fi

[ ${#names[@]} -gt 0 ] || die "nothing to benchmark"
[ "${names[0]}" = skiff ] || warn "skiff not measured: ratios are to ${names[0]}"

# --------------------------------------------------------------------------
# Measure.
# --------------------------------------------------------------------------
busy_pct() {  # share of CPU time not idle over one second, whole machine
  local a b
  a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
  local tot=0 idle i
  for i in 1 2 3 4 5 6 7 8; do tot=$((tot + b[i] - a[i])); done
  idle=$(( (b[4] - a[4]) + (b[5] - a[5]) ))
  echo $(( tot > 0 ? 100 * (tot - idle) / tot : 0 ))
}
mkdir -p "$OUT" || die "cannot make $OUT"
rm -f "$OUT"/hyperfine-*.json "$OUT"/busy.txt "$OUT"/commands.txt
for i in "${!names[@]}"; do printf '%s\t%s\n' "${names[$i]}" "${cmds[$i]}" >> "$OUT/commands.txt"; done
for i in "${!names[@]}"; do
  n=${names[$i]}
  # let the previous engine's leftovers (podman's async clean-up) and short
  # spikes of other work pass: up to 5 s for a quiet second
  for _ in 1 2 3 4 5; do b=$(busy_pct); [ "$b" -lt 15 ] && break; done
  echo "$n $b" >> "$OUT/busy.txt"
  [ "$b" -ge 15 ] && warn "the machine is ${b}% busy with other work just before measuring $n: numbers will be noisy"
  if [ "${kinds[$i]}" = core ]; then r=$RUNS w=$WARMUP; else r=$ENGINE_RUNS w=$ENGINE_WARMUP; fi
  say "measuring $n: $w warm-up + $r runs"
  hyperfine --shell=sh --warmup "$w" --runs "$r" --style basic \
            --command-name "$n" --export-json "$OUT/hyperfine-$n.json" "${cmds[$i]}" \
    || die "hyperfine failed for $n"
done

# --------------------------------------------------------------------------
# Report: a table of medians and ratios, and latest.md beside the JSON.
# --------------------------------------------------------------------------
versions=$(
  echo "skiff: $("$SKIFF" --version 2>/dev/null | head -1)"
  for n in "${names[@]}"; do
    case $n in
      crun) echo "crun: $(crun --version | head -1)" ;;
      runc) echo "runc: $(runc --version | head -1)" ;;
      podman) echo "podman: $(podman --version)" ;;
      docker) echo "docker: $(docker version -f 'client {{.Client.Version}}, server {{.Server.Version}}' 2>/dev/null)" ;;
    esac
  done
  echo "hyperfine: $(hyperfine --version)"
)
host="$(uname -sr), $(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
held=$(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null)
cgmode="cgroup v1 controllers, hybrid (cgroup2 at /sys/fs/cgroup/unified holds ${held:-no controller})"
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && cgmode="cgroup v2 (unified)"

python3 - "$OUT" "$host" "$cgmode" "$versions" "$WORK" "$SKIFF" "${names[@]}" <<'PY'
import json, sys, datetime, os
out, host, cgmode, versions, work, skiff, names = *sys.argv[1:7], sys.argv[7:]
cmds = dict(l.rstrip("\n").split("\t", 1) for l in open(os.path.join(out, "commands.txt")))
busy = {}
try:
    for l in open(os.path.join(out, "busy.txt")):
        k, v = l.split(); busy[k] = int(v)
except OSError:
    pass
rows = []
for n in names:
    r = json.load(open(os.path.join(out, f"hyperfine-{n}.json")))["results"][0]
    t = sorted(r["times"])
    p = lambda q: t[min(len(t) - 1, int(q * (len(t) - 1) + 0.5))]
    rows.append(dict(busy=busy.get(n, -1), name=n, cmd=cmds.get(n, r["command"]), median=r["median"], mean=r["mean"], sd=r["stddev"] or 0.0,
                     mn=r["min"], mx=r["max"], p90=p(0.9), runs=len(t)))
base = rows[0]["median"]
ms = lambda s: f"{s * 1e3:.1f}"
hdr = "| engine | median ms | ratio to skiff | mean ± sd ms | min ms | p90 ms | max ms | runs | host busy before |"
sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
lines = [hdr, sep]
for r in rows:
    lines.append(f"| {r['name']} | {ms(r['median'])} | {r['median'] / base:.2f}× | {ms(r['mean'])} ± {ms(r['sd'])} | "
                 f"{ms(r['mn'])} | {ms(r['p90'])} | {ms(r['mx'])} | {r['runs']} | {r['busy']}% |")
table = "\n".join(lines)
now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
print()
print(f"{'engine':8s} {'median':>9s} {'ratio':>7s} {'mean±sd':>15s} {'min':>7s} {'p90':>7s} {'runs':>5s}")
for r in rows:
    print(f"{r['name']:8s} {ms(r['median']):>6s} ms {r['median'] / base:6.2f}x "
          f"{ms(r['mean']) + '±' + ms(r['sd']):>12s} ms {ms(r['mn']):>7s} {ms(r['p90']):>7s} {r['runs']:5d}")
print("ratio = engine median / skiff median (below 1: faster than skiff)")
noisy = [r["name"] for r in rows if r["busy"] >= 15]
if noisy:
    print(f"WARNING: other work kept the CPUs busy while measuring {', '.join(noisy)}: rerun on a quiet machine")
md = [f"# skiff start latency — {now}", "",
      f"Host: {host}; {cgmode}.", "",
      "Start-to-exit wall time of one container running `true`, measured by hyperfine "
      "(median; ratio = engine median / skiff median). 'host busy before' is the share of CPU "
      "time other work used in the second before that engine was measured; above ~15% the numbers are noisy.", "", table, "", "Commands (run as `sh -c '<cmd>'`):", ""]
md += [f"- {r['name']}: `{r['cmd'].replace(work, '$WORK').replace(skiff, 'build/bin/skiff')}`" for r in rows]
md += ["", "($WORK: the run's mktemp -d, since removed; $$: the per-run shell's pid, a unique id.)"]
md += ["", "Versions:", ""] + [f"- {v}" for v in versions.splitlines()]
md += ["", "Raw timings: the hyperfine-*.json files beside this one.", ""]
open(os.path.join(out, "latest.md"), "w").write("\n".join(md))
PY
say "results: $OUT/latest.md and $OUT/hyperfine-*.json"
"$(dirname "$0")/commit.sh" "$SKIFF" || warn "the commit benchmark (tests/bench/commit.sh) failed"
"$(dirname "$0")/pull.sh" "$SKIFF" || warn "the pull benchmark (tests/bench/pull.sh) failed"
