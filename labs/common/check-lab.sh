#!/usr/bin/env bash
# labs/common/check-lab.sh MODE BUILD LAB — the CTest checks of a lab's own
# grader (labs/CMakeLists.txt), each through scripts/grade.sh:
#   full      the solution scores full marks, and so does every variant
#             (variants/NAME.patch: the solution with a change the task
#             allows, e.g. another valid order)
#   not-full  the untouched starter does not
#   mutants   every mutant (mutants/NAME.patch: the solution with one
#             realistic mistake) fails at least one check, and every
#             check fails for at least one mutant: no check is a stub that
#             always passes, no mutant slips through
# Grades in $GRADE_DIR (labs/CMakeLists.txt gives each lab its own folder).
# Exit status: 0 ok, 1 not ok, 4 skipped (not root).
set -uo pipefail

mode=$1 build=$2 lab=$3
repo=$(cd "$(dirname "$0")/../.." && pwd)
lab_dir=$(ls -d "$repo"/labs/"$lab"-* 2>/dev/null | head -1)
[ -n "$lab_dir" ] || { echo "no lab $lab"; exit 1; }
out=${GRADE_DIR:?GRADE_DIR must be set}

# grade SRC: grades it; leaves "points<TAB>passed<TAB>name" for every check in $out/result.tsv.
grade() {
  local status=0
  "$repo/scripts/grade.sh" "$build" "$lab" "$1" >"$out.log" 2>&1 || status=$?
  cat "$out.log"
  [ $status -eq 4 ] && exit 4
  [ $status -eq 0 ] || { echo "check-lab: grade.sh failed (status $status)"; exit 1; }
  if grep -q "the submission does not build\|the submission has no" "$out.log"; then
    echo "check-lab: $1 does not build: a lab's own code must"; exit 1
  fi
  awk -F'\t' 'FILENAME == ARGV[1] { ran[$3] = $2; next }
              { print $1 "\t" (($2 in ran) ? ran[$2] : 0) "\t" $2 }' \
      "$out/checks.tsv" "$out/checks-list.tsv" >"$out/result.tsv"
}

# materialize NAME DEST: the solution with mutants/NAME.patch applied.
materialize() {
  rm -rf "$2" && mkdir -p "$2" && cp "$lab_dir"/solution/* "$2"/ &&
    patch -s -p1 -d "$2" -i "$lab_dir/mutants/$1.patch"
}

mkdir -p "$out"
case $mode in
  full)
    grade "$lab_dir/solution"
    grep -q $'\t0\t' "$out/result.tsv" && { echo "check-lab: the solution must get full marks"; exit 1; }
    # variants/NAME.patch: another correct answer (the solution, changed in
    # a way the task allows); it must get full marks too.
    for v in "$lab_dir"/variants/*.patch; do
      [ -f "$v" ] || continue
      rm -rf "$out.variant" && mkdir -p "$out.variant" && cp "$lab_dir"/solution/* "$out.variant"/ &&
        patch -s -p1 -d "$out.variant" -i "$v" || { echo "check-lab: $v does not apply"; exit 1; }
      grade "$out.variant" >/dev/null
      if grep -q $'\t0\t' "$out/result.tsv"; then
        echo "check-lab: the correct variant $(basename "$v" .patch) loses points:"
        awk -F'\t' '$2 == 0 { print "  " $3 }' "$out/result.tsv"
        exit 1
      fi
      echo "variant $(basename "$v" .patch): full marks"
    done
    exit 0 ;;
  not-full)
    grade "$lab_dir/starter"
    grep -q $'\t0\t' "$out/result.tsv" || { echo "check-lab: the starter gets full marks"; exit 1; }
    exit 0 ;;
  mutants)
    ok=0
    declare -A caught=()
    mutants=("$lab_dir"/mutants/*.patch)
    [ -f "${mutants[0]}" ] || { echo "check-lab: $lab has no mutants/*.patch"; exit 1; }
    for m in "${mutants[@]}"; do
      name=$(basename "$m" .patch)
      materialize "$name" "$out.mutant" || { echo "check-lab: $m does not apply"; exit 1; }
      grade "$out.mutant" >/dev/null
      failed=$(awk -F'\t' '$2 == 0 { print $3 }' "$out/result.tsv")
      if [ -z "$failed" ]; then
        echo "mutant $name: passes every check — no check can see its mistake"; ok=1
      else
        echo "mutant $name: fails $(echo "$failed" | wc -l) check(s):"
        echo "$failed" | sed 's/^/    /'
      fi
      while IFS= read -r check; do [ -n "$check" ] && caught[$check]=1; done <<<"$failed"
    done
    while IFS=$'\t' read -r _ _ check; do
      [ -n "${caught[$check]:-}" ] || { echo "check never fails for any mutant (a stub?): $check"; ok=1; }
    done <"$out/result.tsv"
    exit $ok ;;
  *) echo "usage: check-lab.sh full|not-full|mutants BUILD LAB"; exit 1 ;;
esac
