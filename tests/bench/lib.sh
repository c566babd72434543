# Shared by run.sh and monitor-rss.sh; sourced, not run:
#   LOG_TAG=name; . "$(dirname "$0")/lib.sh"
# Everything here works on the callers' globals: ONLY, SKIFF, OUT, WORK,
# SKIFF_ROOT, DOCKERD_PID, DOCKER_IMAGE, PODMAN, PODMAN_USED, CG_MOUNTED.

say()  { printf '[%s] %s\n' "$LOG_TAG" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$LOG_TAG" "$*" >&2; }
die()  { printf '[%s] ERROR: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }
wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# The skiff argument and the host: exits unless both will do; sets an
# absolute SKIFF and the results directory OUT.
check_skiff() {
  [ -n "$SKIFF" ] || usage 2
  [ -x "$SKIFF" ] || die "$SKIFF is not an executable (build first: make build)"
  [ "$(id -u)" -eq 0 ] || die "needs root (namespaces, cgroups, mounts)"
}
resolve_paths() {
  SKIFF=$(cd "$(dirname "$SKIFF")" && pwd)/$(basename "$SKIFF")
  OUT=${BENCH_OUT:-$(cd "$(dirname "$SKIFF")/.." && pwd)/bench}
}

apt_install() {  # apt_install pkg...; never lets a package start its service
  local made_policy=0
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  say "apt-get install $*"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "$@"; } >/dev/null 2>&1
  local rc=$?
  [ "$made_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}

# --------------------------------------------------------------------------
# Clean-up pieces, for the callers' cleanup().
# --------------------------------------------------------------------------
skiff_rm_all() {  # every container of our store
  local ids; ids=$("$SKIFF" ps -aq --no-trunc 2>/dev/null)
  [ -n "$ids" ] && "$SKIFF" rm -f $ids >/dev/null 2>&1
}
docker_rm_ours() {  # our containers (label) and the image we imported
  docker ps -aq --filter label=skiff-bench=1 2>/dev/null | xargs -r docker rm -f >/dev/null 2>&1
  [ "$DOCKER_IMPORTED" -eq 1 ] && docker rmi -f "$DOCKER_IMAGE" >/dev/null 2>&1
}
stop_dockerd() {  # stop_dockerd [note]: the dockerd start_dockerd started, if any
  [ -n "$DOCKERD_PID" ] || return 0
  kill "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$DOCKERD_PID" 2>/dev/null && kill -9 "$DOCKERD_PID" 2>/dev/null
  say "stopped the dockerd this script started${1:-}"
}
podman_reset() {  # podman_reset [rm option...]: empty podman's private store
  [ "$PODMAN_USED" -eq 1 ] || return 0
  "${PODMAN[@]}" rm -af "$@" >/dev/null 2>&1
  "${PODMAN[@]}" rmi -af >/dev/null 2>&1
  "${PODMAN[@]}" system reset -f >/dev/null 2>&1
}
remove_work() {  # any mount still under $WORK, deepest first; then $WORK
  local m
  for m in $(findmnt -rn -o TARGET 2>/dev/null | grep "^$WORK" | sort -r); do umount -l "$m" 2>/dev/null; done
  rm -rf "$WORK" 2>/dev/null || warn "could not remove $WORK"
}
# cg_children CTRL: how many cgroups CTRL's hierarchy holds besides its root
# (removed ones count until the kernel has freed them).
cg_children() { awk -v c="$1" '$1 == c { print $3 - 1 }' /proc/cgroups; }
cg_back_in_v2() { grep -qw "$1" /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; }
cg_unfix() {  # cg_unfix: put back what cg_fix changed (the host as it was booted)
  local m ctrl try
  for m in "${CG_MOUNTED[@]}"; do
    ctrl=${m##*/}
    # The kernel frees a v1 hierarchy at its unmount only if it has no child
    # cgroup left, not even one being removed; otherwise it lives on,
    # unmounted, and keeps its controller from cgroup2 until the next boot.
    # So: remove the engines' empty cgroups (deepest first), wait until the
    # kernel has freed them, unmount, and check; once more if need be.
    for try in 1 2; do
      [ "$try" -eq 2 ] && mount -t cgroup -o "$ctrl" cgroup "$m" 2>/dev/null
      find "$m" -mindepth 1 -type d 2>/dev/null | sort -r | xargs -r rmdir 2>/dev/null
      for _ in $(seq 100); do [ "$(cg_children "$ctrl")" = 0 ] && break; sleep 0.1; done
      umount "$m" 2>/dev/null || { warn "could not unmount $m: undo with: umount $m && rmdir $m"; break; }
      for _ in $(seq 50); do cg_back_in_v2 "$ctrl" && break; sleep 0.1; done
      cg_back_in_v2 "$ctrl" && break
    done
    rmdir "$m" 2>/dev/null
    if cg_back_in_v2 "$ctrl"; then
      say "unmounted $m: '$ctrl' is back in cgroup2, as the host booted"
    else
      warn "'$ctrl' is not back in cgroup2 ($(cg_children "$ctrl") cgroups of it left; one with a process?):" \
           "mount -t cgroup -o $ctrl cgroup $m, remove its cgroups, umount $m"
    fi
  done
  CG_MOUNTED=()
}
on_signal() { echo; warn "interrupted"; exit 130; }
set_traps() { trap cleanup EXIT; trap on_signal INT TERM; }

# --------------------------------------------------------------------------
# Host: cgroups.
# --------------------------------------------------------------------------
# cg_fix SAY-FORMAT CONSEQUENCE: on a hybrid host (v1 hierarchies on a tmpfs,
# cgroup2 at unified/) crun refuses to start while cgroup2 holds any
# controller. Give each such controller its own v1 hierarchy, as a v1 host
# would have; cgroup2 is then left empty. SAY-FORMAT (a printf format, %s the
# controller) announces each; CONSEQUENCE ends the warning if a mount fails.
cg_fix() {
  local u=/sys/fs/cgroup/unified ctrl
  [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] || return 0
  [ -r "$u/cgroup.controllers" ] || return 0
  for ctrl in $(cat "$u/cgroup.controllers"); do
    mountpoint -q "/sys/fs/cgroup/$ctrl" && continue
    # shellcheck disable=SC2059
    say "$(printf "$1" "$ctrl")"
    say "  mkdir -p /sys/fs/cgroup/$ctrl && mount -t cgroup -o $ctrl cgroup /sys/fs/cgroup/$ctrl"
    if mkdir -p "/sys/fs/cgroup/$ctrl" && mount -t cgroup -o "$ctrl" cgroup "/sys/fs/cgroup/$ctrl"; then
      CG_MOUNTED+=("/sys/fs/cgroup/$ctrl")
    else
      warn "could not mount $ctrl as v1; $2"
    fi
  done
}

# --------------------------------------------------------------------------
# Engines: podman and dockerd, private to $WORK.
# --------------------------------------------------------------------------
# podman raises nofile and nproc by default, which needs CAP_SYS_RESOURCE
# (a sandboxed root may lack it): ask for 1024, as the OCI specs do.
PULIMIT="--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
podman_setup() {  # a store of its own: nothing of the host's podman is touched or pulled
  PODMAN=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --tmpdir "$WORK/podman/tmp"
          --cgroup-manager cgroupfs --events-backend file)
  PODMAN_USED=1
  mkdir -p "$WORK/podman/tmp"
}
start_dockerd() {  # on a private socket and data root, touching neither iptables nor a bridge
  mkdir -p "$WORK/docker"
  say "starting dockerd (log: $WORK/dockerd.log)"
  dockerd --data-root "$WORK/docker/data" --exec-root "$WORK/docker/exec" \
          --pidfile "$WORK/docker/dockerd.pid" -H "unix://$WORK/docker/docker.sock" \
          --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
          >"$WORK/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$WORK/docker/docker.sock"
  for _ in $(seq 60); do timeout 5 docker info >/dev/null 2>&1 && break; kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
}
