#!/usr/bin/env bash
# scripts/grade-all.sh BUILD LAB SUBMISSIONS — grade every submission of a lab.
# Every sub-folder of SUBMISSIONS is one student's SRC (its name is the
# student's). Grades them one after the other with scripts/grade.sh, which
# reuses one build of the grader; keeps each student's grade.txt, grade.json
# and junit.xml in BUILD/labs-grade/NN-topic/submissions/STUDENT/, writes
# BUILD/labs-grade/NN-topic/grades.csv (student,score,max,percent) and prints it.
# Exit status: 0 when every submission was graded (whatever the scores).
set -euo pipefail

die() { echo "grade-all: $*" >&2; exit 2; }

[ $# -eq 3 ] || die "usage: scripts/grade-all.sh BUILD LAB SUBMISSIONS"
build=$1 lab=$2 submissions=$3
repo=$(cd "$(dirname "$0")/.." && pwd)
[ -n "$lab" ] || die "which lab? make grade-all LAB=02 SUBMISSIONS=DIR"
[ -d "$submissions" ] || die "SUBMISSIONS '$submissions' is not a folder"
lab_dir=
for d in "$repo"/labs/"$lab" "$repo"/labs/"$lab"-*; do
  [ -f "$d/lab.cmake" ] && { lab_dir=$d; break; }
done
[ -n "$lab_dir" ] || die "no lab '$lab' in labs/"
lab_name=$(basename "$lab_dir")
mkdir -p "$build"
out=${GRADE_DIR:-$(cd "$build" && pwd)/labs-grade/$lab_name}
mkdir -p "$out/submissions"

csv_field() {  # RFC 4180: quote a field holding a comma, a quote or a blank
  case $1 in *[,\"\ ]*) printf '"%s"' "${1//\"/\"\"}" ;; *) printf '%s' "$1" ;; esac
}

csv="$out/grades.csv"
echo "student,score,max,percent" >"$csv.tmp"
count=0
while IFS= read -r -d '' dir; do
  student=$(basename "$dir")
  keep="$out/submissions/$student"
  mkdir -p "$keep"
  status=0
  GRADE_DIR="$out" "$repo/scripts/grade.sh" "$build" "$lab_name" "$dir" >"$keep/grade.txt" 2>&1 || status=$?
  if [ $status -ne 0 ]; then
    cat "$keep/grade.txt" >&2
    die "grading $student failed (status $status): see above"
  fi
  cp "$out/grade.json" "$out/junit.xml" "$keep/"
  [ ! -f "$out/build-submission.log" ] || cp "$out/build-submission.log" "$keep/"
  score=$(sed -n 's/^{"lab":"[^"]*","score":\([0-9]*\),"max":\([0-9]*\).*/\1/p' "$keep/grade.json")
  max=$(sed -n 's/^{"lab":"[^"]*","score":\([0-9]*\),"max":\([0-9]*\).*/\2/p' "$keep/grade.json")
  percent=$(awk -v s="$score" -v m="$max" 'BEGIN { printf "%.1f", m ? 100 * s / m : 0 }')
  echo "$(csv_field "$student"),$score,$max,$percent" >>"$csv.tmp"
  echo "graded $student: $score/$max" >&2
  count=$((count + 1))
done < <(find "$submissions" -mindepth 1 -maxdepth 1 -type d -print0 | sort -z)
mv "$csv.tmp" "$csv"

[ $count -gt 0 ] || echo "grade-all: no sub-folder in $submissions: nothing graded" >&2
cat "$csv"
echo
echo "grades.csv: $csv; each student's grade.txt, grade.json, junit.xml: $out/submissions/"
