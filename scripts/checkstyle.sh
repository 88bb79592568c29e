#!/bin/sh
# checkstyle.sh — the project's small checksrc: bans that the compiler cannot enforce.
#  - library layers (everything in src/ but cli/) never print, exit or call raw malloc/free;
#  - no struct typedefs anywhere in src/;
#  - front ends include only the façade and the base (scripts/check-layers.sh).
# progress.c is the one base module allowed to write to stderr (drawing is its job).
set -eu
cd "$(dirname "$0")/.."
bad=0
lib_files=$(find src -name '*.c' -o -name '*.h' | grep -v '^src/cli/' | grep -v 'src/base/progress.c' || true)
check() { # pattern, message, files...
    pat=$1; msg=$2; shift 2
    hits=$(grep -nE "$pat" "$@" /dev/null | grep -vE '^\S+:[0-9]+:\s*//' || true)
    if [ -n "$hits" ]; then
        echo "checkstyle: $msg" >&2
        echo "$hits" >&2
        bad=1
    fi
}
# shellcheck disable=SC2086
check '(^|[^_a-z])(printf|fprintf|puts|fputs|perror)\(' "library code must not print (use px_err / logx)" $lib_files
# shellcheck disable=SC2086
check '(^|[^_a-z.>])(exit|abort)\(' "library code must not exit" $lib_files
# shellcheck disable=SC2086
check '(^|[^_a-z])(malloc|calloc|realloc|free|strdup)\(' "use px_malloc/px_free (src/base/mem.h)" $(echo $lib_files | tr ' ' '\n' | grep -v 'src/base/mem.c')
check 'typedef struct' "no struct typedefs" $(find src -name '*.c' -o -name '*.h')
scripts/check-layers.sh >/dev/null || bad=1
[ $bad -eq 0 ] && echo "checkstyle: ok"
exit $bad
