#!/usr/bin/env bash
# scripts/grade.sh BUILD LAB [SRC] — grade one submission of one lab.
#   BUILD  the main build folder (make passes `build`)
#   LAB    02, or 02-chroot: the lab folder labs/NN-topic
#   SRC    a folder with the student's files, named as in labs/NN-topic/starter/
#          (default: the starter itself)
# Builds the lab's grading project (labs/common) into BUILD/labs-grade/NN-topic/
# (or $GRADE_DIR), runs its grader, prints "check | points | result" and TOTAL,
# and leaves grade.json and junit.xml in that folder.
# Exit status: 0 when a grade was given, whatever the score (a submission that
# does not build scores 0, and the reason is printed); 2 when grading itself
# is impossible (bad arguments, the lab's own code does not build); 4 when not
# run as root (the checks make mount namespaces).
set -euo pipefail

die() { echo "grade: $*" >&2; exit 2; }

[ $# -ge 2 ] || die "usage: scripts/grade.sh BUILD LAB [SRC]"
build=$1 lab=$2 src=${3:-}
repo=$(cd "$(dirname "$0")/.." && pwd)

[ -n "$lab" ] || die "which lab? make grade LAB=02 [SRC=DIR]"
lab_dir=
for d in "$repo"/labs/"$lab" "$repo"/labs/"$lab"-*; do
  [ -f "$d/lab.cmake" ] && { lab_dir=$d; break; }
done
[ -n "$lab_dir" ] || die "no lab '$lab' in labs/ (a folder NN-topic with a lab.cmake)"
lab_name=$(basename "$lab_dir")
src=${src:-$lab_dir/starter}
[ -d "$src" ] || die "SRC '$src' is not a folder"
src=$(cd "$src" && pwd)

if [ "$(id -u)" -ne 0 ]; then
  echo "grade: the checks of $lab_name run real containers: run as root" >&2
  exit 4
fi

mkdir -p "$build"
out=${GRADE_DIR:-$(cd "$build" && pwd)/labs-grade/$lab_name}
mkdir -p "$out/submission"
# One grading at a time per folder: grade-all and ctest share them.
exec 9>"$out/.lock"
flock 9

rm -f "$out/grade.json" "$out/junit.xml" "$out/checks.tsv" "$out/checks-list.tsv"

# ---- the results, whatever happened ------------------------------------------------

# Prints the table and writes grade.json from checks-list.tsv (points, name:
# every check) and checks.tsv (points, passed, name, why: the checks that ran).
# $1: a reason that fails every check that did not run.
report() {
  local missing_reason=$1
  awk -F'\t' -v lab="$lab_name" -v json="$out/grade.json" -v missing="$missing_reason" '
    function esc(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return s }
    FILENAME == ARGV[1] { ran[$3] = $2; why[$3] = $4; next }
    { n++; name[n] = $2; pts[n] = $1; max += $1
      if ($2 in ran) { ok[n] = ran[$2]; reason[n] = why[$2] } else { ok[n] = 0; reason[n] = missing }
      if (ok[n]) score += $1
      if (length($2) > w) w = length($2) }
    END {
      if (w < 5) w = 5
      printf "%-" w "s | points | result\n", "check"
      for (i = 0; i < w; i++) line = line "-"
      printf "%s-+--------+-------\n", line
      for (i = 1; i <= n; i++)
        printf "%-" w "s | %6d | %s\n", name[i], pts[i], ok[i] ? "passed" : "FAILED"
      printf "%s-+--------+-------\n", line
      printf "TOTAL %d/%d\n", score, max
      first = 1
      for (i = 1; i <= n; i++) if (!ok[i]) {
        if (first) { printf "\nwhy:\n"; first = 0 }
        printf "- %s:\n    %s\n", name[i], reason[i]
      }
      printf "{\"lab\":\"%s\",\"score\":%d,\"max\":%d,\"checks\":[", esc(lab), score, max > json
      for (i = 1; i <= n; i++)
        printf "%s{\"name\":\"%s\",\"points\":%d,\"passed\":%s,\"why\":\"%s\"}", (i > 1 ? "," : ""),
               esc(name[i]), pts[i], ok[i] ? "true" : "false", esc(ok[i] ? "" : reason[i]) > json
      printf "]}\n" > json
    }' "$out/checks.tsv" "$out/checks-list.tsv"
  echo
  echo "grade.json and junit.xml: $out/"
}

# A junit.xml for a grader that could not run: every check failed, for REASON.
junit_all_failed() {
  local reason=$1
  {
    echo '<?xml version="1.0" encoding="UTF-8"?>'
    echo "<testsuites><testsuite name=\"$lab_name\" tests=\"$(wc -l <"$out/checks-list.tsv")\">"
    while IFS=$'\t' read -r _ name; do
      name=${name//&/&amp;}; name=${name//</&lt;}; name=${name//\"/&quot;}
      echo "<testcase classname=\"$lab_name\" name=\"$name\"><failure message=\"$reason\"/></testcase>"
    done <"$out/checks-list.tsv"
    echo "</testsuite></testsuites>"
  } >"$out/junit.xml"
}

echo "grading $lab_name: $src"

# ---- the lab's own code: the grader, references, helpers --------------------------

starter_files=$(cd "$lab_dir/starter" && find . -maxdepth 1 -type f -printf '%f\n' | sort)
# A fresh folder starts from the starter, so the project can be configured
# before we know whether the submission is complete.
for f in $starter_files; do
  [ -f "$out/submission/$f" ] || cp "$lab_dir/starter/$f" "$out/submission/$f"
done
if [ ! -f "$out/CMakeCache.txt" ] || ! grep -q "^LAB_DIR:.*=$lab_dir\$" "$out/CMakeCache.txt"; then
  cmake -S "$repo/labs/common" -B "$out" -DLAB_DIR="$lab_dir" \
        -DLAB_SUBMISSION="$out/submission" >"$out/configure.log" 2>&1 \
    || { tail -20 "$out/configure.log" >&2; die "the grading project of $lab_name does not configure ($out/configure.log)"; }
fi
cmake --build "$out" -j "$(nproc)" --target lab_tools >"$out/build-lab.log" 2>&1 \
  || { grep -m 20 -E 'error|Error' "$out/build-lab.log" >&2 || true
       die "the grader of $lab_name does not build ($out/build-lab.log): not the submission's fault"; }
LAB_CHECKS_LIST="$out/checks-list.tsv" "$out/bin/grader" >/dev/null \
  || die "the grader of $lab_name cannot list its checks"
: >"$out/checks.tsv"

# ---- the submission -----------------------------------------------------------------

missing=()
for f in $starter_files; do
  if [ -f "$src/$f" ]; then
    cmp -s "$src/$f" "$out/submission/$f" || cp "$src/$f" "$out/submission/$f"
  else
    missing+=("$f")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  reason="the submission has no ${missing[*]} (expected the files of labs/$lab_name/starter/: $(echo $starter_files))"
  echo "$reason"; echo
  junit_all_failed "$reason"
  report "$reason"
  exit 0
fi
if ! cmake --build "$out" --target lab_program >"$out/build-submission.log" 2>&1; then
  reason="the submission does not build (see $out/build-submission.log)"
  echo "$reason:"
  grep -E 'error|undefined reference' "$out/build-submission.log" | head -20 | sed 's/^/  /'
  echo
  junit_all_failed "$reason"
  report "$reason"
  exit 0
fi

# ---- the checks ---------------------------------------------------------------------

set +e
(cd "$out" && LAB_CHECKS_FILE="$out/checks.tsv" timeout 600 "$out/bin/grader" \
   -r junit -o "$out/junit.xml" >/dev/null 2>"$out/grader.err")
status=$?
set -e
# 0: all passed; 1..N: that many failed. Anything else stopped the grader.
reason="not run: the grader stopped (status $status, see $out/grader.err)"
report "$reason"
exit 0
