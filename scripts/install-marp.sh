#!/usr/bin/env bash
# scripts/install-marp.sh DIR — install the pinned Marp CLI into DIR (build/marp)
# for `make slides` and the `slides` tests; nothing is installed globally.
#
# The version is pinned in slides/marp/package.json and every dependency in
# slides/marp/package-lock.json; `npm ci` installs exactly that lock. A second
# run with the same lock does nothing. Prints the path of the marp executable.
#
# Exit status: 0 installed (or already there), 77 when it cannot be installed
# because node/npm is missing or the npm registry cannot be reached (the tests
# report that as SKIPPED), 1 for any other failure.
set -euo pipefail

dir=${1:?usage: install-marp.sh DIR}
src=$(cd "$(dirname "$0")/../slides/marp" && pwd)
SKIP=77

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
marp=$dir/node_modules/.bin/marp

# Several tests may install at once (ctest -j): one at a time.
exec 9>"$dir/.install.lock"
flock 9

stamp=$dir/.lock.sha256
want=$(cat "$src/package.json" "$src/package-lock.json" | sha256sum | cut -d' ' -f1)
if [ -x "$marp" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$marp"
  exit 0
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "install-marp: node and npm are needed for the slides (Debian: apt-get install nodejs npm)" >&2
  exit $SKIP
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "install-marp: Marp CLI needs node >= 18, this is $(node --version)" >&2
  exit $SKIP
fi

cp "$src/package.json" "$src/package-lock.json" "$dir/"
rm -f "$stamp"
log=$dir/npm-ci.log
if ! (cd "$dir" && npm ci --prefer-offline --no-audit --no-fund --no-update-notifier \
        --fetch-retries 0 --fetch-timeout 30000 >"$log" 2>&1); then
  registry=$(npm config get registry 2>/dev/null || echo "the npm registry")
  if ! (cd "$dir" && timeout 30 npm ping --fetch-retries 0 --fetch-timeout 15000 >/dev/null 2>&1); then
    echo "install-marp: cannot reach $registry, so Marp CLI cannot be installed (npm's log: $log)" >&2
    exit $SKIP
  fi
  echo "install-marp: npm ci failed in $dir:" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
echo "$want" >"$stamp"
echo "$marp"
