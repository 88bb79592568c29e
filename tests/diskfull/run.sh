#!/bin/sh
# tests/diskfull/run.sh — disk full and read-only (issue 16): import, index, publish (train),
# bundle create, key create and an audited search run with a file size limit (RLIMIT_FSIZE via
# prlimit, SIGXFSZ ignored, so a write past the limit fails with EFBIG as on a full disk) at
# several limits, i.e. failing at different write points; then the same on a read-only bind
# mount of the work folder (when this user may make one: unshare -m). After each failure: a
# clear error naming the file, the previous state intact (store integrity, audit chain, counts,
# registry versions verify, no staging folder left). Then a server whose audit log cannot grow:
# it keeps answering /health and /api/schema, refuses searches it cannot audit (5xx naming the
# audit log), and answers them again once the limit is lifted (prlimit --pid).
#
# Usage: tests/diskfull/run.sh [--rows R] [--limits "B B ..."]   (bytes; default below)
# Environment: PROSPECT_BIN (default build/prospect), PROSPECT_SHARED (the tiny test model for
# index; skipped without it), TMPDIR. Exit 77 (skip) without prlimit, curl or sqlite3.
set -u
bin=${PROSPECT_BIN:-build/prospect}
rows=1500
limits="0 4096 32768 131072 524288 2097152"
while [ $# -gt 0 ]; do
    case $1 in
    --rows) rows=$2; shift 2 ;;
    --limits) limits=$2; shift 2 ;;
    *) echo "disk-full harness: unknown option $1" >&2; exit 2 ;;
    esac
done
for c in prlimit sqlite3 curl; do
    command -v $c >/dev/null 2>&1 || { echo "disk-full harness: skipped: needs $c" >&2; exit 77; }
done
[ -x "$bin" ] || { echo "disk-full harness: $bin not found" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
work=$(mktemp -d "${TMPDIR:-/tmp}/diskfull.XXXXXX")
work=$(cd "$work" && pwd)
srv=""
trap '[ -n "$srv" ] && kill "$srv" 2>/dev/null; rm -rf "$work"' EXIT
cp "$bin" "$work/prospect" # a private copy: a rebuild meanwhile must not swap it
bin=$work/prospect
trap '' XFSZ # inherited by the children: a write past the limit fails (EFBIG), no signal
model=${PROSPECT_SHARED:-../shared}/models/minilm-synthetic-test
P() { "$bin" "$@"; }
fail() { echo "disk-full harness: FAIL: $*" >&2; exit 1; }
q() { sqlite3 "$1" "$2" 2>&1; }
n_fail=0 n_ok=0 n_ro=0

store_ok() {
    [ "$(q "$db" 'PRAGMA integrity_check')" = ok ] || fail "$what: integrity_check: $(q "$db" 'PRAGMA integrity_check')"
    P audit verify --db "$db" >"$work/v.log" 2>&1 || { cat "$work/v.log" >&2; fail "$what: audit verify"; }
}
registry_ok() {
    P bundle list --registry "$reg" --format csv >"$work/list.csv" 2>"$work/v.log" || { cat "$work/v.log" >&2; fail "$what: bundle list"; }
    tail -n +2 "$work/list.csv" | cut -d, -f2,3 | tr , / | while read -r ref; do
        P bundle show "$ref" --verify --registry "$reg" >/dev/null 2>&1 || { echo "disk-full harness: FAIL: $what: $ref does not verify" >&2; exit 1; }
    done || exit 1
    left=$(find "$reg" -name '.staging-*' -o -name '.deleting-*')
    [ -z "$left" ] || fail "$what: left behind: $left"
}
versions() { P bundle list "$1" --registry "$reg" --format csv 2>/dev/null | tail -n +2 | cut -d, -f3 | tr '\n' ' ' | sed 's/ $//'; }

# A failure must say which file and why: the path named, and the system's reason.
clear_error() {
    grep -q "error" "$work/out.log" || fail "$what: exit $rc without an error message: $(cat "$work/out.log")"
    grep -q "$1" "$work/out.log" || fail "$what: the error does not name $1: $(cat "$work/out.log")"
    grep -qi "$2" "$work/out.log" || fail "$what: the error does not say '$2': $(cat "$work/out.log")"
}

# ---- fixtures ----
P generate --rows "$rows" --seed 1 --out "$work/a.csv" >/dev/null 2>&1 || fail generate
P generate --rows $((rows * 2)) --seed 2 --out "$work/b.csv" >/dev/null 2>&1 || fail generate
P import --db "$work/base.db" --csv "$work/a.csv" >/dev/null 2>&1 || fail "import base"
P keys create --name first --db "$work/base.db" >/dev/null 2>&1 || fail "keys create"
awk 'BEGIN { print "id,income,region,bought"; for (i = 0; i < 400; i++) { inc = 20 + (i * 37) % 100;
     printf "C%03d,%d,%s,%s\n", i, inc, (i % 2 ? "north" : "south"), (inc > 90 ? "yes" : "no") } }' >"$work/p.csv"
P train --csv "$work/p.csv" --target bought --name m --folds 3 --threads 1 --registry "$work/base-reg" >/dev/null 2>&1 || fail train
fresh() { rm -rf "$work/w"; mkdir "$work/w"; cp "$work/base.db" "$work/w/t.db"; cp -a "$work/base-reg" "$work/w/reg"; }
db=$work/w/t.db reg=$work/w/reg

# run_op OP LIMIT_OR_ro: one operation under a limit (or read-only), then the checks.
run_op() {
    op=$1 how=$2 what="$1 at $2"
    fresh
    if [ "$how" = ro ]; then
        set -- sh -c 'mount --bind -o ro "$1" "$1" && shift && exec "$@"' sh "$work/w" "$bin"
        why="Read-only"
    else
        set -- prlimit --fsize="$how" "$bin"
        why="File too large\|size limit"
    fi
    case $op in
    import) args="import --db $db --csv $work/b.csv" ;;
    index) args="index --db $db --embedder $model --threads 1" ;;
    publish) args="train --csv $work/p.csv --target bought --name m --folds 3 --threads 1 --registry $reg" ;;
    bundle) args="bundle create --name s --db $db --registry $reg" ;;
    key) args="keys create --name second --db $db" ;;
    search) args="search --db $db affluent --top 3 --format csv" ;;
    esac
    # shellcheck disable=SC2086 # the paths have no spaces (mktemp)
    if [ "$how" = ro ]; then
        rc=$( { unshare -m "$@" $args 2>&1; echo "rc=$?"; } | tee "$work/out.log" | sed -n 's/^rc=//p')
    else
        rc=$( { "$@" $args 2>&1; echo "rc=$?"; } | tee "$work/out.log" | sed -n 's/^rc=//p')
    fi
    store_ok
    registry_ok
    n=$(q "$db" 'SELECT count(*) FROM customers')
    if [ "$rc" = 0 ]; then
        n_ok=$((n_ok + 1))
        case $op in
        import) [ "$n" = $((rows * 2)) ] || fail "$what: succeeded with $n customers" ;;
        publish) [ "$(versions m)" = "1 2" ] || fail "$what: succeeded with versions $(versions m)" ;;
        bundle) [ "$(versions s)" = 1 ] || fail "$what: succeeded with versions $(versions s)" ;;
        key) [ "$(q "$db" 'SELECT count(*) FROM api_keys')" = 2 ] || fail "$what: succeeded without the key" ;;
        search) [ "$(q "$db" 'SELECT count(*) FROM audit')" -ge 1 ] || fail "$what: a search that was not audited" ;;
        esac
        return
    fi
    n_fail=$((n_fail + 1))
    [ "$rc" = 1 ] || fail "$what: exit $rc (want 1): $(cat "$work/out.log")"
    case $op in
    import | index | key | search) clear_error "$db" "$why" ;;
    publish) clear_error "$reg" "$why" ;;
    bundle) clear_error "$reg\\|$db" "$why" ;; # the snapshot reads the store first
    esac
    # the previous state, intact
    [ "$n" = "$rows" ] || fail "$what: $n customers after a failed $op (want $rows)"
    [ "$(q "$db" 'SELECT count(*) FROM api_keys')" = 1 ] || fail "$what: keys changed"
    [ "$(versions m)" = 1 ] || fail "$what: versions of m: $(versions m)"
    [ -z "$(versions s)" ] || fail "$what: a bundle appeared: $(versions s)"
    case $op in
    index)
        v=$(q "$db" 'SELECT count(*) FROM vectors')
        # whole batches, or every vector committed and only the book's index file (written
        # after the last batch) refused: a re-run rewrites it
        [ $((v % 256)) = 0 ] || [ "$v" = "$rows" ] || fail "$what: $v vectors (a partial batch)" ;;
    search)
        grep -q '^CUST-' "$work/out.log" && fail "$what: results printed by a search that was not audited"
        [ "$(q "$db" 'SELECT count(*) FROM audit')" = 0 ] || fail "$what: audit rows after a failed search" ;;
    esac
    return 0
}

ops="import publish bundle key search"
[ -d "$model" ] && ops="$ops index"
echo "disk-full harness: $rows customers; limits (bytes): $limits; operations: $ops"
for lim in $limits; do
    for op in $ops; do run_op "$op" "$lim"; done
done
echo "  under a file size limit: $n_fail failed cleanly, $n_ok succeeded (limit above what they write)"
if unshare -m sh -c "mount --bind -o ro '$work' '$work'" 2>/dev/null; then
    n_fail=0 n_ok=0
    for op in $ops; do run_op "$op" ro; done
    n_ro=$n_fail
    [ "$n_ok" = 0 ] || fail "$n_ok operations succeeded on a read-only folder"
    echo "  on a read-only folder: $n_ro failed cleanly"
else
    echo "  read-only folder: skipped (no unshare -m / mount --bind for this user)"
fi

# ---- a server whose audit log cannot grow ----
fresh
log=$work/serve.log
# 40,000 bytes: room for the WAL index (-shm, 32 KiB) and a few audit rows in the WAL, then full
prlimit --fsize=40000:unlimited "$bin" serve --db "$db" --port 0 --embedder /nonexistent 2>"$work/serve.err" &
srv=$!
port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.err" | head -n 1)
    [ -n "$port" ] && break
    kill -0 "$srv" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve under a limit did not start"; }
    sleep 0.1
done
[ -n "$port" ] || fail "serve did not start"
get() { curl -s -o "$log" -w '%{http_code}' "http://127.0.0.1:$port$1"; }
[ "$(get /health)" = 200 ] || fail "server: /health: $(cat "$log")"
[ "$(get /api/schema)" = 200 ] || fail "server: /api/schema: $(cat "$log")"
n_answered=0
for k in $(seq 1 100); do
    code=$(get "/api/search?q=over+$k&top=3")
    [ "$code" = 200 ] || break
    n_answered=$((n_answered + 1))
done
case $code in 5*) ;; *) fail "server: after $n_answered searches, one it could not audit answered $code: $(cat "$log")" ;; esac
n_audit=$(q "$db" 'SELECT count(*) FROM audit')
[ "$n_audit" = "$n_answered" ] || fail "server: $n_answered searches answered, $n_audit audited"
grep -qi "audit" "$log" || fail "server: the refusal does not name the audit log: $(cat "$log")"
[ "$(get /health)" = 200 ] || fail "server: /health after a refused search"
prlimit --pid "$srv" --fsize=unlimited:unlimited 2>"$work/v.log" || prlimit --pid "$srv" --fsize=unlimited || fail "prlimit --pid"
[ "$(get '/api/search?q=over+60&top=3')" = 200 ] || fail "server: search after the limit was lifted: $(cat "$log")"
kill "$srv"
wait "$srv" 2>/dev/null
srv=""
what="the server" store_ok
[ "$(q "$db" 'SELECT count(*) FROM audit')" = $((n_answered + 1)) ] || fail "server: audit rows $(q "$db" 'SELECT count(*) FROM audit'), want $((n_answered + 1))"
echo "  server whose audit log filled up after $n_answered searches: /health and /api/schema answered, search refused ($code) until it could audit again"
echo "disk-full harness: ok"
