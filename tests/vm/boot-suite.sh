#!/bin/sh
# tests/vm/boot-suite.sh — one CTest test of label `vm`: boots KERNEL in
# skiff's micro-VM (runtime/12-vm) with skiff and its integration tests
# inside, and runs the tests that FILTER selects there, one process each
# (run-in-guest.sh). The guest's status is the test's.
#   boot-suite.sh BIN_DIR CACHE KERNEL CGROUP FILTER...
# A kernel that cannot be obtained (no network, no apt-get) is a skip that
# says so (exit 4), never a pass.
set -u
bin=$1 cache=$2 kernel=$3 cgroup=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
if ! got=$("$bin/skiff-vm" --cache "$cache" --kernel "$kernel" --print-kernel 2>&1); then
  echo "SKIP: kernel $kernel cannot be obtained here: $got"
  exit 4
fi
echo "kernel: $got"
lib=/usr/lib/x86_64-linux-gnu
# libcurl is dlopen'ed by skiff (pull) and libgcc_s by the C library: the
# dynamic loader's list cannot see either, so they are named here. brd gives
# the guest a disk for /tmp (run-in-guest.sh), loop the block devices that
# the device-policy tests guard.
exec "$bin/skiff-vm" --cache "$cache" --kernel "$kernel" --cgroup "$cgroup" \
  --memory 3072 --timeout 900 --module "brd rd_nr=1 rd_size=1048576" --module loop \
  --program "$bin/skiff" --program "$bin/skiff-monitor" --program "$bin/skiff_integration" \
  --program "$bin/skiff_exe_attack" --program "$bin/skiff_syscall_probe" \
  --program "$lib/libcurl.so.4" --program "$lib/libgcc_s.so.1" --program /usr/bin/ps \
  --file "$here=$here" --env SKIFF_DOCKER_HUB=127.0.0.1:9 \
  -- /bin/sh "$here/run-in-guest.sh" "$bin/skiff_integration" "$@"
