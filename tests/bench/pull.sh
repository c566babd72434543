#!/usr/bin/env bash
# Pull of one image from a local registry into an empty store: `skiff pull`
# next to `skopeo copy` and `podman pull` of the same image (lesson
# 05-images: what a pull costs).
#
#   tests/bench/pull.sh [OPTIONS] path/to/skiff      (run.sh calls it too)
#
# Options:
#   --runs N      timed pulls per tool, each into an empty store   (default 10)
#   --warmup N    untimed pulls first                              (default 2)
#   --only LIST   comma-separated subset of skiff,skopeo,skopeo-storage,podman
#   --image NAME  layers (3 small layers, 1.3 MB) or big (4 layers of this
#                 machine's files, ~20 MB compressed)           (default big)
#
# The registry is Debian's docker-registry on 127.0.0.1:<free port>, with
# its storage in the work dir; the image is tests/registry/make-images.sh's
# "layers" (three layers, busybox and a few files). Nothing leaves loopback.
# What each tool does: skiff, podman and skopeo-storage (skopeo copy into
# containers-storage, Podman's store) download, verify and unpack every
# layer; skopeo (copy into an OCI layout directory) only stores the blobs,
# no unpacking: a lower bound. A tool that is missing is skipped and said.
# Results: a table on stdout and pull.md in <build dir>/bench/. Everything
# lives in one mktemp -d directory, removed on exit, registry stopped.
set -uo pipefail

RUNS=10 WARMUP=2 ONLY="skiff,skopeo,skopeo-storage,podman" SKIFF="" IMAGE_NAME=big
usage() { sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --image) IMAGE_NAME=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "pull.sh: unknown option $1" >&2; usage 2 ;;
    *) SKIFF=$1; shift ;;
  esac
done

LOG_TAG=pull
. "$(dirname "$0")/lib.sh"
check_skiff
resolve_paths
SRC=$(cd "$(dirname "$0")/../.." && pwd)

WORK=$(mktemp -d /tmp/skiff-bench-pull.XXXXXX)
REGISTRY_PID="" PODMAN=() PODMAN_USED=0 CG_MOUNTED=() DOCKERD_PID=""
CLEANED=0
cleanup() {
  [ "$CLEANED" -eq 1 ] && return
  CLEANED=1
  trap '' INT TERM
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null; wait "$REGISTRY_PID" 2>/dev/null; fi
  umount -R "$WORK/cs/root/overlay" 2>/dev/null  # containers-storage's private bind of its layer dir
  remove_work
}
set_traps

for tool in docker-registry umoci skopeo hyperfine python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh installs it)"
done

# ---- the registry and the image -------------------------------------------
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ADDR=127.0.0.1:$PORT
cat > "$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: $ADDR
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  kill -0 "$REGISTRY_PID" 2>/dev/null || die "docker-registry did not start: $(tail -n 3 "$WORK/registry.log")"
  sleep 0.1
done
say "registry: $ADDR (storage $WORK/registry)"
mkdir "$WORK/images"
"$SRC/tests/registry/make-images.sh" "$ADDR" "$WORK/images" "$IMAGE_NAME" || die "make-images.sh failed"
IMAGE=$ADDR/$IMAGE_NAME:latest
say "image: $IMAGE ($(du -sh "$WORK/registry" | cut -f1) in the registry)"

# ---- the tools, each checked once ------------------------------------------
names=() cmds=() preps=()
add() { names+=("$1"); cmds+=("$2"); preps+=("$3"); }
q() { printf '%q' "$1"; }
mkdir -p "$WORK/config"  # skiff's client config: empty, no mirrors, no credentials

if wanted skiff; then
  add skiff "SKIFF_CONFIG=$(q "$WORK/config") SKIFF_ROOT=$(q "$WORK/skiff") exec $(q "$SKIFF") pull -q $IMAGE" \
      "rm -rf $(q "$WORK/skiff")"
fi
if wanted skopeo; then
  add skopeo "exec skopeo copy -q --src-tls-verify=false docker://$IMAGE oci:$(q "$WORK/oci"):layers" \
      "rm -rf $(q "$WORK/oci")"
fi
if wanted skopeo-storage; then
  # The same copy into containers-storage (Podman's store, overlay driver):
  # skopeo then unpacks every layer too, the same work as skiff and podman.
  cs="[overlay@$WORK/cs/root+$WORK/cs/run]"
  add skopeo-storage "exec skopeo copy -q --src-tls-verify=false docker://$IMAGE $(q "containers-storage:$cs$IMAGE")" \
      "umount -R $(q "$WORK/cs/root/overlay") 2>/dev/null; rm -rf $(q "$WORK/cs")"
fi
if wanted podman; then
  if command -v podman >/dev/null; then
    podman_setup
    pc=""; for w in "${PODMAN[@]}"; do pc+="$(q "$w") "; done
    add podman "exec ${pc}pull -q --tls-verify=false $IMAGE" "rm -rf $(q "$WORK/podman/root") $(q "$WORK/podman/run")"
  else
    say "podman not installed; skipped"
  fi
fi

for i in "${!names[@]}"; do
  sh -c "${preps[$i]}" && sh -c "${cmds[$i]}" >/dev/null 2>"$WORK/check.err" \
    || die "${names[$i]} cannot pull $IMAGE: $(tail -n 3 "$WORK/check.err")"
done
[ ${#names[@]} -gt 0 ] || die "nothing to benchmark"

# ---- measure ----------------------------------------------------------------
mkdir -p "$OUT" || die "cannot make $OUT"
for i in "${!names[@]}"; do
  n=${names[$i]}
  say "measuring $n: $WARMUP warm-up + $RUNS pulls, each into an empty store"
  hyperfine --shell=sh --warmup "$WARMUP" --runs "$RUNS" --style basic --prepare "${preps[$i]}" \
            --command-name "$n" --export-json "$OUT/pull-$n.json" "${cmds[$i]}" >/dev/null \
    || die "hyperfine failed for $n"
done

python3 - "$OUT" "$IMAGE" "${names[@]}" <<'PY'
import datetime, json, os, sys
out, image, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for n in names:
    r = json.load(open(os.path.join(out, f"pull-{n}.json")))["results"][0]
    rows.append((n, r["median"], r["mean"], r["stddev"] or 0.0, r["min"], r["max"], len(r["times"])))
base = rows[0][1]
ms = lambda s: f"{s * 1e3:.1f}"
lines = ["| tool | median ms | ratio to " + rows[0][0] + " | mean ± sd ms | min ms | max ms | runs |",
         "|---|---:|---:|---:|---:|---:|---:|"]
for n, med, mean, sd, mn, mx, runs in rows:
    lines.append(f"| {n} | {ms(med)} | {med / base:.2f}× | {ms(mean)} ± {ms(sd)} | {ms(mn)} | {ms(mx)} | {runs} |")
table = "\n".join(lines)
print()
print(table)
print(f"ratio = tool median / {rows[0][0]} median (above 1: slower)")
now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
md = [f"# pull of {image.split('/', 1)[1]} from a local registry — {now}", "",
      f"Host: {os.uname().sysname} {os.uname().release}, {os.cpu_count()} cores. Wall time of one pull "
      "into an empty store (hyperfine; the store is removed before each run). skopeo copies blobs "
      "only; skiff and podman also unpack the layers.", "", table, ""]
open(os.path.join(out, "pull.md"), "w").write("\n".join(md))
PY
say "results: $OUT/pull.md"
