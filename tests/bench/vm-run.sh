#!/usr/bin/env bash
# Start-to-exit latency of `skiff run --rm busybox true` next to crun, inside
# skiff's micro-VM on Debian 12's own kernel (6.1) with pure cgroup v2: the
# host a fresh Debian 12 machine is, which this VM (6.18, hybrid) is not.
#
#   tests/bench/vm-run.sh [--kernel K] [--runs N] [--warmup N] path/to/skiff
#
#   --kernel K   a skiff-vm kernel (default debian-6.1; debian-6.12 also works)
#   --runs N     timed runs per engine (default 40)
#   --warmup N   untimed runs first (default 5)
#
# Inside the guest, as on a Debian 12 disk: the store in its default place,
# /var/lib/skiff, on ext4 (a RAM disk: the guest has no other disk), /run a
# tmpfs where crun keeps its state. QEMU runs under TCG here (KVM does not
# work in this nested VM), which makes every guest instruction 5-10 times
# slower: read the ratio, not the milliseconds. Results: vm-latest.md in
# <build dir>/bench/ (BENCH_OUT overrides it). The guest is thrown away at the
# end; on the host only the kernel cache (build/vm-cache) stays.
set -uo pipefail

KERNEL=debian-6.1 RUNS=40 WARMUP=5 SKIFF=""
usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) KERNEL=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "vm-run.sh: unknown option $1" >&2; usage 2 ;;
    *) SKIFF=$1; shift ;;
  esac
done

LOG_TAG=vm-bench
. "$(dirname "$0")/lib.sh"
check_skiff
resolve_paths
BIN=$(dirname "$SKIFF")
[ -x "$BIN/skiff-vm" ] || die "$BIN/skiff-vm missing: build the target skiff-vm"
CACHE=${SKIFF_VM_CACHE:-$(dirname "$BIN")/vm-cache}

need=()
for tool in hyperfine crun python3; do command -v $tool >/dev/null || need+=($tool); done
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}" || die "apt-get install ${need[*]} failed"

WORK=$(mktemp -d /tmp/skiff-vm-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && crun spec) || die "crun spec failed"
python3 - "$WORK/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["hostname"] = "bench-crun"
json.dump(c, open(sys.argv[1], "w"), indent=2)
PY

cat > "$WORK/guest.sh" <<EOF
#!/bin/sh
# Runs in the guest: a Debian 12-like layout, then the two engines.
set -e
mke2fs -q /dev/ram0 >/dev/null
mkdir -p /var/lib && mount -t ext4 /dev/ram0 /var/lib
mount -t tmpfs -o mode=0755 tmpfs /run
unset SKIFF_ROOT
export PATH=$BIN:\$PATH
export SKIFF_DOCKER_HUB=127.0.0.1:9
skiff run --rm busybox true
layer=\$(for d in /var/lib/skiff/images/layers/*/; do [ -x "\${d}bin/true" ] && echo "\${d%/}"; done)
mkdir -p /var/lib/crun-bundle && cp -a "\$layer" /var/lib/crun-bundle/rootfs
cp $WORK/config.json /var/lib/crun-bundle/
crun run --bundle /var/lib/crun-bundle warm-check
echo "guest: \$(uname -r), /sys/fs/cgroup: \$(awk '\$2 == "/sys/fs/cgroup" {print \$3}' /proc/mounts)," \
  "/var/lib: \$(awk '\$2 == "/var/lib" {print \$3}' /proc/mounts), /run: \$(awk '\$2 == "/run" {print \$3}' /proc/mounts)"
hyperfine -N --style basic --warmup $WARMUP --runs $RUNS --export-json /tmp/h.json \
  -n skiff "sh -c 'exec skiff run --rm busybox true'" \
  -n crun "sh -c 'exec crun run --bundle /var/lib/crun-bundle b\\\$\\\$'"
echo "@@JSON"
cat /tmp/h.json
echo "@@END"
EOF

lib=/usr/lib/x86_64-linux-gnu
say "booting $KERNEL (pure cgroup v2) with skiff, crun and hyperfine"
"$BIN/skiff-vm" --cache "$CACHE" --kernel "$KERNEL" --cgroup v2 --memory 2048 --cpus 2 \
  --timeout 900 --module "brd rd_nr=1 rd_size=524288" \
  --program "$BIN/skiff" --program "$BIN/skiff-monitor" --program "$lib/libgcc_s.so.1" \
  --program "$(command -v crun)" --program "$(command -v hyperfine)" \
  --file "$WORK=$WORK" -- /bin/sh "$WORK/guest.sh" > "$WORK/out" 2>&1
rc=$?
sed '/^@@JSON/,/^@@END/d' "$WORK/out" | tail -40 >&2
[ $rc -eq 0 ] || die "the guest failed (status $rc); its output is above"
sed -n '/^@@JSON/,/^@@END/p' "$WORK/out" | sed '1d;$d' > "$WORK/h.json"
guest_line=$(grep -m1 '^guest:' "$WORK/out")

mkdir -p "$OUT"
python3 - "$WORK/h.json" "$OUT/vm-latest.md" "$KERNEL" "$guest_line" "$RUNS" "$WARMUP" <<'PY'
import json, sys, statistics, datetime
src, dst, kernel, guest, runs, warm = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(src))["results"]}
med = {k: statistics.median(v["times"]) * 1000 for k, v in res.items()}
lines = [f"# skiff start latency in a micro-VM ({kernel}) — {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC", "",
         f"{guest}; QEMU microvm under TCG, 2 vCPUs; {runs} runs after {warm} warm-ups.", "",
         "| engine | median ms | ratio to skiff | mean ± sd ms | min ms | max ms |",
         "|---|---:|---:|---:|---:|---:|"]
for k in ("skiff", "crun"):
    t = [x * 1000 for x in res[k]["times"]]
    lines.append(f"| {k} | {med[k]:.1f} | {med[k] / med['skiff']:.2f}× | {statistics.mean(t):.1f} ± {statistics.stdev(t):.1f} | {min(t):.1f} | {max(t):.1f} |")
open(dst, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
say "results: $OUT/vm-latest.md"
