#!/usr/bin/env bash
# scripts/slides.sh BUILD [DECK.md...] — `make slides`: check and render decks.
#
# Every deck (default: slides/NN-topic.md) is checked for its parts
# (slides/check-deck.mjs), rendered to HTML in BUILD/slides/ by the pinned
# Marp CLI (installed into BUILD/marp/ by scripts/install-marp.sh), checked
# again against its HTML, and rendered to PDF too when Chromium is there.
#
#   SLIDES_OUT=DIR   write the decks there instead of BUILD/slides
#   SLIDES_PDF=auto  PDF when a browser is found (default); 0 never; 1 required
#   CHROME_PATH=…    the browser for PDF (default /usr/bin/chromium)
#
# Exit status: 0 all rendered; 1 a deck is broken (each reason is printed);
# 77 nothing could be rendered because node or the npm registry is missing
# (the `slides` tests report that as SKIPPED, never as passed).
set -euo pipefail

build=${1:?usage: slides.sh BUILD [DECK.md...]}
shift
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$build"
build=$(cd "$build" && pwd)
out=${SLIDES_OUT:-$build/slides}
pdf=${SLIDES_PDF:-auto}
SKIP=77

if [ $# -eq 0 ]; then
  shopt -s nullglob
  set -- "$root"/slides/[0-9][0-9]-*.md
  [ $# -gt 0 ] || { echo "slides: no deck in $root/slides" >&2; exit 1; }
fi
if ! command -v node >/dev/null; then
  echo "slides: SKIPPED: node is not installed (Debian: apt-get install nodejs npm)" >&2
  exit $SKIP
fi

lesson_of() {  # slides/03-namespaces.md → lessons/03-namespaces/README.md
  echo "$root/lessons/$(basename "$1" .md)/README.md"
}

# 1. The parts, before anything is installed.
failed=0
ok=()
for deck in "$@"; do
  if node "$root/slides/check-deck.mjs" "$deck" --lesson "$(lesson_of "$deck")" >/dev/null; then
    ok+=("$deck")
  else
    failed=1
  fi
done
[ ${#ok[@]} -gt 0 ] || exit 1

# 2. The pinned Marp CLI.
rc=0
marp=$("$root/scripts/install-marp.sh" "$build/marp") || rc=$?
if [ $rc -eq $SKIP ]; then
  echo "slides: SKIPPED: Marp CLI could not be installed (see above), nothing rendered" >&2
  exit $SKIP
elif [ $rc -ne 0 ]; then
  exit 1
fi

browser=${CHROME_PATH:-/usr/bin/chromium}
case $pdf in
  auto) [ -x "$browser" ] && pdf=1 || pdf=0 ;;
  1) [ -x "$browser" ] || { echo "slides: SLIDES_PDF=1 but no browser at $browser (set CHROME_PATH)" >&2; exit 1; } ;;
esac
# Chromium refuses to run as root with its sandbox; Marp drops it for root
# already, CHROME_NO_SANDBOX says so for every other case we run in (CI).
export CHROME_NO_SANDBOX=1

# 3. Render: HTML always, PDF when asked; then check the HTML. (--theme-set
# takes a list, so it comes last, after the deck.)
themes=$root/slides/themes
mkdir -p "$out"
[ -d "$root/slides/images" ] && cp -r "$root/slides/images" "$out/"
for deck in "${ok[@]}"; do
  base=$(basename "$deck" .md)
  html=$out/$base.html
  rm -f "$html"
  if ! log=$("$marp" --no-config-file --no-stdin "$deck" -o "$html" --theme-set "$themes" 2>&1 </dev/null) || [ ! -s "$html" ]; then
    tail -n 15 <<<"$log" >&2
    echo "$base.md: broken: marp could not render it to $html" >&2
    failed=1
    continue
  fi
  if ! node "$root/slides/check-deck.mjs" "$deck" --html "$html"; then
    failed=1
    continue
  fi
  if [ "$pdf" = 1 ]; then
    if log=$("$marp" --no-config-file --no-stdin --pdf --allow-local-files \
           --browser chrome --browser-path "$browser" --browser-timeout 120 \
           "$deck" -o "$out/$base.pdf" --theme-set "$themes" 2>&1 </dev/null) && [ -s "$out/$base.pdf" ]; then
      echo "$base.md: $out/$base.pdf"
    else
      tail -n 15 <<<"$log" >&2
      echo "$base.md: broken: marp could not render it to PDF with $browser" >&2
      failed=1
    fi
  fi
done
echo "slides: written to $out"
exit $failed
