#!/bin/sh
# tests/vm/run-in-guest.sh — runs inside skiff's micro-VM (busybox sh).
#   run-in-guest.sh catch BINARY [FILTER]      FILTER: one Catch2 test spec ("a*,b*": either)
#   run-in-guest.sh lesson DOCTEST README BIN_DIR
#   run-in-guest.sh grader GRADER
# catch: every Catch2 test case of BINARY that FILTER selects, each in a
# process of its own as CTest runs them on the host, so that one test's skip
# (exit 4) or crash does not hide the others. Prints one line per test (with
# a failing test's whole output), a summary, and exits 1 if any test failed.
# lesson: the lesson's doc-test (tests/docs), as the docs label runs it.
# grader: a lab's grader, every check against this kernel's real cgroups
# (exit status: the number of checks that failed).
mode=$1
shift
uptime() { cut -d' ' -f1 /proc/uptime; }
# The tests keep their stores under /tmp. On a Debian 12 host that is the
# root disk, ext4, not the initramfs' tmpfs: idmapped mounts, for one, come
# to ext4 in 5.19 and to tmpfs only in 6.3. So /tmp is ext4 on a RAM disk.
# Whatever the initramfs holds under /tmp (a build tree cloned there) is
# copied onto the disk first, so that it stays where it was.
if [ -b /dev/ram0 ]; then
  mkdir -p /mnt/disk && mke2fs -q /dev/ram0 > /dev/null && mount -t ext4 /dev/ram0 /mnt/disk &&
    cp -a /tmp/. /mnt/disk/ && chmod 1777 /mnt/disk && umount /mnt/disk &&
    mount -t ext4 /dev/ram0 /tmp || exit 125
fi
fs_at() { awk -v dir="$1" '$2 == dir { t = $3 } END { print t }' /proc/mounts; }
echo "guest: $(uname -r), /sys/fs/cgroup: $(fs_at /sys/fs/cgroup), /tmp: $(fs_at /tmp)"
if [ "$mode" = lesson ]; then
  SKIFF_BIN=$3/skiff exec "$1" --lesson "$2" --bin-dir "$3"
fi
if [ "$mode" = grader ]; then
  cd /tmp && "$1" --reporter compact > /tmp/grader.out 2>&1
  rc=$?
  cat /tmp/grader.out
  exit $rc
fi
[ "$mode" = catch ] || { echo "run-in-guest.sh: unknown mode $mode"; exit 125; }
bin=$1
shift
"$bin" --list-test-names-only "$@" | grep -v '^$' > /tmp/tests || exit 125
total=$(wc -l < /tmp/tests)
[ "$total" -gt 0 ] || { echo "no test matches: $*"; exit 125; }
pass=0 fail=0 skip=0 failed=
while IFS= read -r name; do
  # Catch2 reads \ [ ] , * as test-spec syntax: escape them to match one name.
  spec=$(printf '%s' "$name" | sed 's/[][\\,*]/\\&/g')
  start=$(uptime)
  "$bin" "$spec" > /tmp/out 2>&1 < /dev/null
  rc=$?
  took=$(awk -v a="$start" -v b="$(uptime)" 'BEGIN { printf "%.1f", b - a }')
  case $rc in
    0) pass=$((pass + 1)); echo "PASS ${took}s  $name" ;;
    4) skip=$((skip + 1)); echo "SKIP ${took}s  $name: $(grep -m1 '^SKIP' /tmp/out)" ;;
    *) fail=$((fail + 1)); failed="$failed
  $name"
       echo "FAIL ${took}s  $name (exit $rc)"; sed 's/^/    | /' /tmp/out ;;
  esac
done < /tmp/tests
echo "$pass passed, $fail failed, $skip skipped, of $total on $(uname -r)"
[ "$fail" -eq 0 ] || { echo "failed:$failed"; exit 1; }
