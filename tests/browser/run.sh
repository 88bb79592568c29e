#!/bin/sh
# run.sh — the browser test as ctest runs it: the search page in Debian's headless chromium,
# driven by playwright-core (npm, no browser download). Installs playwright-core from the
# committed lockfile into WORK/node_modules (once; again when the lockfile changes), then runs
# search.test.mjs (or the script named by the second argument). Exit 77 (ctest SKIP_RETURN_CODE) when node, npm, chromium or the package
# cannot be had, so machines without them still pass `make test`.
# Usage: run.sh WORK_DIR [SCRIPT.mjs]   (env: PROSPECT_BIN; CHROMIUM overrides /usr/bin/chromium)
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=${1:?usage: run.sh WORK_DIR [SCRIPT.mjs]}
script=${2:-search.test.mjs}
chromium=${CHROMIUM:-/usr/bin/chromium}
skip() { echo "SKIP: $*"; exit 77; }

command -v node >/dev/null 2>&1 || skip "node is not installed (scripts/install-deps installs it)"
[ -x "$chromium" ] || skip "$chromium is not installed (scripts/install-deps installs chromium)"
mkdir -p "$work" || exit 1
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" ||
    [ ! -f "$work/node_modules/playwright-core/package.json" ]; then
    command -v npm >/dev/null 2>&1 || skip "npm is not installed"
    cp "$here/package.json" "$here/package-lock.json" "$work/" || exit 1
    # a failed install (offline) leaves no lockfile copy behind, so the next run tries again
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1) || {
        rm -f "$work/package-lock.json"
        skip "npm ci of playwright-core failed (offline?): see $work/npm.log"
    }
fi
NODE_PATH="$work/node_modules" CHROMIUM="$chromium" BROWSER_OUT="$work" \
    exec node "$here/$script"
