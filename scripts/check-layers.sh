#!/bin/sh
# check-layers.sh — the front ends (src/cli, src/http) include only the app façade's public
# headers (src/app/app_*.h, never an *_int.h), the shared base (src/base) and front-end headers
# (src/cli, src/http). CMake enforces the same rule when it compiles (the layers link their
# dependencies PRIVATE, so a lower layer's include directory is not on a front end's path);
# this script names the offending line even where a header happens to be reachable another way.
# Usage: scripts/check-layers.sh [FILE...]  (default: every .c/.h under src/cli and src/http)
set -eu
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- $(find src/cli src/http -name '*.c' -o -name '*.h' | sort)
bad=0
for f in "$@"; do
    # quoted includes only: system and library headers (<...>) are not layers
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
        h=$(printf '%s\n' "$line" | sed 's/^[^"]*"\([^"]*\)".*/\1/')
        case "$h" in
        */*) ok=0 ;; # a path reaches around the layers
        app_*_int.h) ok=0 ;;
        app_*.h) [ -f "src/app/$h" ] && ok=1 || ok=0 ;;
        *) if [ -f "src/base/$h" ] || [ -f "src/cli/$h" ] || [ -f "src/http/$h" ]; then ok=1; else ok=0; fi ;;
        esac
        if [ "$ok" -eq 0 ]; then
            echo "check-layers: $f:${line%%:*}: includes \"$h\": front ends see only app_*.h and base/ (ARCHITECTURE.md, Layers)" >&2
            echo x
        fi
    done
done > "${TMPDIR:-/tmp}/check-layers.$$"
[ -s "${TMPDIR:-/tmp}/check-layers.$$" ] && bad=1
rm -f "${TMPDIR:-/tmp}/check-layers.$$"
[ $bad -eq 0 ] && echo "check-layers: ok"
exit $bad
