#!/bin/sh
# tests/vm/boot-suite.sh — one CTest test of label `vm`: boots KERNEL in
# skiff's micro-VM (runtime/12-vm) with skiff and its tests inside, and runs
# there (run-in-guest.sh) either the integration tests that FILTER selects,
# one process each, or one lesson's doc-test. The guest's status is the test's.
#   boot-suite.sh BIN_DIR CACHE KERNEL CGROUP catch FILTER
#   boot-suite.sh BIN_DIR CACHE KERNEL CGROUP lesson README
#   boot-suite.sh BIN_DIR CACHE KERNEL CGROUP grader GRADE_DIR   (a lab grader built by grade.sh)
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
mode=$1
lesson_files=
case $mode in
  catch) shift; set -- catch "$bin/skiff_integration" "$@" ;;
  lesson) dir=$(dirname "$2"); lesson_files="--file $dir=$dir"
          set -- lesson "$bin/skiff_doctest" "$2" "$bin" ;;
  grader) lesson_files="--file $2/bin=$2/bin"; set -- grader "$2/bin/grader" ;;
  *) echo "boot-suite.sh: unknown mode $mode"; exit 2 ;;
esac
lib=/usr/lib/x86_64-linux-gnu
# libcurl and libnftables are dlopen'ed by skiff (pull, the bridge's NAT)
# and libgcc_s by the C library: the
# dynamic loader's list cannot see either, so they are named here. brd gives
# the guest a disk for /tmp (run-in-guest.sh), loop the block devices that
# the device-policy tests guard.
exec "$bin/skiff-vm" --cache "$cache" --kernel "$kernel" --cgroup "$cgroup" \
  --memory 3072 --timeout 900 --module "brd rd_nr=1 rd_size=1048576" --module loop \
  --module veth --module bridge --module nf_tables --module nft_chain_nat --module nft_masq \
  --program "$bin/skiff" --program "$bin/skiff-monitor" --program "$bin/skiff_integration" \
  --program "$bin/skiff_exe_attack" --program "$bin/skiff_syscall_probe" \
  --program "$lib/libcurl.so.4" --program "$lib/libgcc_s.so.1" --program "$lib/libstdc++.so.6" \
  --program "$lib/libnftables.so.1" --program /usr/sbin/ip --program /usr/sbin/nft --program /usr/bin/nsenter \
  --program /usr/bin/ps \
  --program "$bin/skiff_doctest" --program "$bin/skiff_unit" --program /bin/bash \
  --file "$here=$here" $lesson_files --env SKIFF_DOCKER_HUB=127.0.0.1:9 \
  -- /bin/sh "$here/run-in-guest.sh" "$@"
