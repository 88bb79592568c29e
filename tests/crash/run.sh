#!/bin/sh
# tests/crash/run.sh — crash consistency by harness (issue 16): kill -9 at a random moment during
# import, index, registry publish (train), promote, delete, bundle create and key create, then
# check that the store and the registry open and verify, that nothing committed is lost, and
# that the leftovers of the killed change are removed by the next change (with its warning).
# It drives the CLI only, so it covers whatever files those commands write.
#
# Usage: tests/crash/run.sh [--runs N] [--rows R] [--ops "import index ..."] [--seed S]
#   --runs N   kills per operation (default 100; ctest runs 4 per operation at --rows 1500)
#   --rows R   customers in the bank (default 20000)
#   --ops      a subset of: import index publish promote delete bundle key (default all)
# Environment: PROSPECT_BIN (default build/prospect), PROSPECT_SHARED (../shared: the tiny
# test model for index; index is skipped without it), TMPDIR.
# Each kill lands at a uniformly random moment in [0, 1.2 x the operation's measured time], so
# some runs finish first: they must then hold the new state in full. Prints one line per
# operation (runs, killed mid-run, finished) and "crash harness: ok"; exit 1 naming the first
# broken run.
set -u
bin=${PROSPECT_BIN:-build/prospect}
runs=100 rows=20000 seed=1
ops="import index publish promote delete bundle key"
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) echo "crash harness: unknown option $1" >&2; exit 2 ;;
    esac
done
command -v sqlite3 >/dev/null 2>&1 || { echo "crash harness: skipped: needs the sqlite3 shell" >&2; exit 77; }
[ -x "$bin" ] || { echo "crash harness: $bin not found" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/crash.XXXXXX")
trap 'rm -rf "$work"' EXIT
# a private copy: a rebuild while the harness runs must not swap the binary under it
cp "$bin" "$work/prospect"
bin=$work/prospect
model=${PROSPECT_SHARED:-../shared}/models/minilm-synthetic-test
P() { "$bin" "$@"; }
fail() { echo "crash harness: FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

# kill9 MAXMS ARGS...: runs prospect ARGS (output to $work/op.log; the binary itself is the
# background job, so the kill hits it and not a subshell), kills it with SIGKILL after a random
# delay in [0, MAXMS] ms; sets $killed to 1 when the kill hit a live process, 0 when it had
# already finished (then $rc is its exit status).
kill9() {
    max=$1; shift
    seed=$((seed + 1))
    delay=$(awk -v s="$seed" -v m="$max" 'BEGIN { srand(s); printf "%.3f", rand() * m / 1000 }')
    "$bin" "$@" >"$work/op.log" 2>&1 &
    pid=$!
    sleep "$delay"
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        rc=$?
        # the kill may land between exit and reap: count it as finished then
        if [ "$rc" -eq 137 ]; then killed=1; else killed=0; fi
    else
        wait "$pid" 2>/dev/null
        rc=$?
        killed=0
    fi
    n_killed=$((n_killed + killed))
}

# measure CMD...: sets $max to 1.2 x the time CMD takes (ms), at least 20.
measure() {
    t0=$(now_ms)
    "$@" >"$work/op.log" 2>&1 || { cat "$work/op.log" >&2; fail "measuring: $*"; }
    max=$(( ( $(now_ms) - t0 ) * 12 / 10 ))
    [ "$max" -ge 20 ] || max=20
}

q() { sqlite3 "$1" "$2" 2>&1; }

# The store opens, passes SQLite's integrity check and the audit chain verifies.
store_ok() {
    [ "$(q "$1" 'PRAGMA integrity_check')" = ok ] || fail "$op run $i: $1: integrity_check: $(q "$1" 'PRAGMA integrity_check')"
    P audit verify --db "$1" >"$work/v.log" 2>&1 || { cat "$work/v.log" >&2; fail "$op run $i: audit verify $1"; }
    P keys list --db "$1" >/dev/null 2>"$work/v.log" || { cat "$work/v.log" >&2; fail "$op run $i: keys list $1"; }
}

# The registry lists, and every listed version verifies against its manifest.
registry_ok() {
    P bundle list --registry "$1" --format csv >"$work/list.csv" 2>"$work/v.log" ||
        { cat "$work/v.log" >&2; fail "$op run $i: bundle list $1"; }
    tail -n +2 "$work/list.csv" | cut -d, -f2,3 | tr , / | while read -r ref; do
        P bundle show "$ref" --verify --registry "$1" >/dev/null 2>"$work/v.log" ||
            { cat "$work/v.log" >&2; echo "crash harness: FAIL: $op run $i: $ref does not verify" >&2; exit 1; }
    done || exit 1
}

# Versions of NAME in registry DIR, space-separated.
versions() { P bundle list "$2" --registry "$1" --format csv 2>/dev/null | tail -n +2 | cut -d, -f3 | tr '\n' ' ' | sed 's/ $//'; }

# After the next change to DIR/NAME (CMD...), no leftover of a dead change remains there, and a
# leftover that was there was reported.
swept_by() {
    dir=$1; shift
    before=$(ls -a "$dir" | grep -c '^\.\(staging\|deleting\)-')
    "$@" >"$work/next.log" 2>&1 || { cat "$work/next.log" >&2; fail "$op run $i: the next change: $*"; }
    left=$(ls -a "$dir" | grep '^\.\(staging\|deleting\)-' || true)
    [ -z "$left" ] || fail "$op run $i: left after the next change: $left"
    if [ "$before" -gt 0 ]; then
        grep -q "died mid-change" "$work/next.log" || fail "$op run $i: $before leftovers removed without a log line"
        n_swept=$((n_swept + before))
    fi
}

report() { printf '  %-8s %4d runs  %4d killed mid-run  %4d finished  %4d leftovers swept\n' "$op" "$runs" "$n_killed" $((runs - n_killed)) "$n_swept"; }

# ---- fixtures ----
P generate --rows "$rows" --seed 1 --out "$work/a.csv" >/dev/null 2>&1 || fail "generate"
P generate --rows $((rows * 2)) --seed 2 --out "$work/b.csv" >/dev/null 2>&1 || fail "generate"
P import --db "$work/base.db" --csv "$work/a.csv" >/dev/null 2>&1 || fail "import base"
P keys create --name first --db "$work/base.db" >/dev/null 2>&1 || fail "keys create"
awk 'BEGIN { print "id,income,region,bought"; for (i = 0; i < 400; i++) { inc = 20 + (i * 37) % 100;
     printf "C%03d,%d,%s,%s\n", i, inc, (i % 2 ? "north" : "south"), (inc > 90 ? "yes" : "no") } }' >"$work/p.csv"
train_args() { echo "train --csv $work/p.csv --target bought --name m --folds 3 --threads 1 --registry $1"; }
# shellcheck disable=SC2046 # $work has no spaces (mktemp)
train() { P $(train_args "$1"); }
train "$work/reg1" >/dev/null 2>&1 || fail "train"                # m/1
cp -a "$work/reg1" "$work/reg2"
train "$work/reg2" >/dev/null 2>&1 || fail "train"                # m/1, m/2
P bundle promote m/1 --stage production --registry "$work/reg2" >/dev/null 2>&1 || fail "promote"
P bundle create --name s --db "$work/base.db" --registry "$work/reg2" >/dev/null 2>&1 || fail "bundle create"
fresh() { rm -rf "$work/db" "$work/reg"; mkdir "$work/db"; cp "$work/base.db" "$work/db/t.db"; cp -a "$work/$1" "$work/reg"; }
db=$work/db/t.db reg=$work/reg

echo "crash harness: $runs kills per operation, $rows customers, $bin"
for op in $ops; do
    n_killed=0 n_swept=0
    case $op in
    import)
        fresh reg1
        measure P import --db "$db" --csv "$work/b.csv"
        for i in $(seq 1 "$runs"); do
            fresh reg1
            kill9 "$max" import --db "$db" --csv "$work/b.csv"
            store_ok "$db"
            n=$(q "$db" 'SELECT count(*) FROM customers')
            # all or nothing: the base rows, or the base rows updated and the new ones added
            if [ "$killed" = 0 ] && [ "$rc" = 0 ]; then [ "$n" = $((rows * 2)) ] || fail "import run $i: finished but $n customers"
            elif [ "$n" != "$rows" ] && [ "$n" != $((rows * 2)) ]; then fail "import run $i: $n customers (want $rows or $((rows * 2)))"; fi
            P import --db "$db" --csv "$work/b.csv" >"$work/v.log" 2>&1 || { cat "$work/v.log" >&2; fail "import run $i: re-import after the kill"; }
            [ "$(q "$db" 'SELECT count(*) FROM customers')" = $((rows * 2)) ] || fail "import run $i: re-import"
        done ;;
    index)
        [ -d "$model" ] || { echo "  index    skipped: no $model"; continue; }
        fresh reg1
        measure P index --db "$db" --embedder "$model" --threads 1
        for i in $(seq 1 "$runs"); do
            fresh reg1
            kill9 "$max" index --db "$db" --embedder "$model" --threads 1
            store_ok "$db"
            n=$(q "$db" 'SELECT count(*) FROM vectors')
            # one transaction per batch of 256: whole batches, or everything
            [ $((n % 256)) = 0 ] || [ "$n" = "$rows" ] || fail "index run $i: $n vectors (a partial batch)"
            P index --db "$db" --embedder "$model" --threads 1 >"$work/v.log" 2>&1 || { cat "$work/v.log" >&2; fail "index run $i: resume"; }
            [ "$(q "$db" 'SELECT count(*), count(DISTINCT customer_id) FROM vectors')" = "$rows|$rows" ] ||
                fail "index run $i: after resuming: $(q "$db" 'SELECT count(*), count(DISTINCT customer_id) FROM vectors')"
        done ;;
    publish)
        fresh reg1
        measure train "$reg"
        for i in $(seq 1 "$runs"); do
            fresh reg1
            kill9 "$max" $(train_args "$reg")
            registry_ok "$reg"
            v=$(versions "$reg" m)
            [ "$v" = 1 ] || [ "$v" = "1 2" ] || fail "publish run $i: versions '$v'"
            [ "$killed" = 1 ] || [ "$v" = "1 2" ] || fail "publish run $i: finished but versions '$v'"
            swept_by "$reg/m" P bundle promote m/1 --stage staging --registry "$reg"
        done ;;
    promote)
        fresh reg2
        measure P bundle promote m/2 --stage production --registry "$reg"
        for i in $(seq 1 "$runs"); do
            fresh reg2
            kill9 "$max" bundle promote m/2 --stage production --registry "$reg"
            registry_ok "$reg"
            pv=$(P bundle list m --registry "$reg" --format csv | grep production | cut -d, -f3)
            [ "$pv" = 1 ] || [ "$pv" = 2 ] || fail "promote run $i: production is '$pv'"
            [ "$killed" = 1 ] || [ "$pv" = 2 ] || fail "promote run $i: finished but production is $pv"
            [ "$(versions "$reg" m)" = "1 2" ] || fail "promote run $i: versions $(versions "$reg" m)"
        done ;;
    delete)
        fresh reg2
        measure P bundle delete m/2 --registry "$reg"
        for i in $(seq 1 "$runs"); do
            fresh reg2
            kill9 "$max" bundle delete m/2 --registry "$reg"
            registry_ok "$reg"
            v=$(versions "$reg" m)
            [ "$v" = 1 ] || [ "$v" = "1 2" ] || fail "delete run $i: versions '$v'"
            [ "$killed" = 1 ] || [ "$v" = 1 ] || fail "delete run $i: finished but versions '$v'"
            swept_by "$reg/m" P bundle promote m/1 --stage staging --registry "$reg"
        done ;;
    bundle)
        fresh reg2
        measure P bundle create --name s --db "$db" --registry "$reg"
        for i in $(seq 1 "$runs"); do
            fresh reg2
            kill9 "$max" bundle create --name s --db "$db" --registry "$reg"
            registry_ok "$reg"
            store_ok "$db"
            v=$(versions "$reg" s)
            [ "$v" = 1 ] || [ "$v" = "1 2" ] || fail "bundle run $i: versions '$v'"
            [ "$killed" = 1 ] || [ "$v" = "1 2" ] || fail "bundle run $i: finished but versions '$v'"
            [ "$(versions "$reg" m)" = "1 2" ] || fail "bundle run $i: m lost a version"
            swept_by "$reg/s" P bundle promote s/1 --stage staging --registry "$reg"
        done ;;
    key)
        fresh reg1
        measure P keys create --name second --db "$db"
        for i in $(seq 1 "$runs"); do
            fresh reg1
            kill9 "$max" keys create --name second --db "$db"
            store_ok "$db"
            n=$(q "$db" 'SELECT count(*) FROM api_keys')
            [ "$n" = 1 ] || [ "$n" = 2 ] || fail "key run $i: $n keys"
            [ "$killed" = 1 ] || [ "$n" = 2 ] || fail "key run $i: finished but $n keys"
            [ "$(q "$db" "SELECT count(*) FROM api_keys WHERE name = 'first'")" = 1 ] || fail "key run $i: the first key is gone"
        done ;;
    *) fail "unknown operation $op" ;;
    esac
    report
done
echo "crash harness: ok"
