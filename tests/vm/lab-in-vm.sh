#!/bin/sh
# tests/vm/lab-in-vm.sh — a lab graded on a real cgroup v2 kernel (label vm):
# the reference solution, built and graded on this host by scripts/grade.sh,
# is graded again inside the micro-VM, where the grader's "real hierarchy"
# checks meet Debian 12's kernel and a pure v2 tree; it must get every
# check. Then MUTANT (mutants/MUTANT.patch), a mistake a v2 kernel refuses,
# must lose checks there too: the grader's real checks can fail on v2.
#   lab-in-vm.sh BIN_DIR CACHE KERNEL LAB MUTANT
set -u
bin=$1 cache=$2 kernel=$3 lab=$4 mutant=$5
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(dirname "$bin")
lab_dir=$(ls -d "$repo"/labs/"$lab"-* | head -1)
work=$build/labs-vm/$(basename "$lab_dir")
mkdir -p "$work"

# grade SRC DIR: builds the grader and SRC's program in DIR (and grades on
# this host, which is how grade.sh builds).
grade_here() {
  GRADE_DIR=$2 "$repo/scripts/grade.sh" "$build" "$lab" "$1" > "$2.log" 2>&1 ||
    { cat "$2.log"; echo "lab-in-vm: grade.sh failed for $1"; exit 1; }
}
grade_here "$lab_dir/solution" "$work/solution"
rm -rf "$work/mutant-src" && mkdir -p "$work/mutant-src" && cp "$lab_dir"/solution/* "$work/mutant-src"/ &&
  patch -s -p1 -d "$work/mutant-src" -i "$lab_dir/mutants/$mutant.patch" || exit 1
grade_here "$work/mutant-src" "$work/mutant"

echo "== the solution, in the micro-VM"
"$repo/tests/vm/boot-suite.sh" "$bin" "$cache" "$kernel" v2 grader "$work/solution"
status=$?
[ $status -eq 4 ] && exit 4
[ $status -eq 0 ] || { echo "lab-in-vm: the solution lost checks on $kernel (status $status)"; exit 1; }
echo "== mutant $mutant, in the micro-VM"
"$repo/tests/vm/boot-suite.sh" "$bin" "$cache" "$kernel" v2 grader "$work/mutant"
status=$?
[ $status -gt 0 ] && [ $status -lt 100 ] || { echo "lab-in-vm: mutant $mutant lost no check on $kernel (status $status)"; exit 1; }
echo "lab-in-vm: the solution gets every check on $kernel; mutant $mutant fails there (grader status $status)"
