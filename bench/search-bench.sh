#!/usr/bin/env bash
# Full-text search (issue 19), three figures:
#   1. search latency: p50/p90/p99 per kind of query (bench/search_load.py: one word, two words,
#      a phrase, from: with a word, Chinese substrings of two characters and of one, a second
#      page) on COUNT messages (default 100,000, bench/gen_maildir.py), with the daemon idle and
#      while it ingests SYNC_COUNT more (api-bench.sh's setup, API_LOAD=bench/search_load.py).
#      Target: p99 under 100 ms.
#   2. what the index costs the import: `crm-mailctl import` of IMPORT_COUNT generated messages
#      (default 20,000) into a fresh database with this tree and with BASE_TREE, a tree without
#      the index (a worktree of the commit before schema/0014), alternating A B A B.
#   3. what it costs the sync: bench/sync-ab.sh between the two trees.
#      Target for 2 and 3: at most 25% slower.
# BASE_TREE must hold a release build of crm-mailctl and crm-maild; without it parts 2 and 3 are
# skipped. Make one with:
#   git worktree add /tmp/base $(git log --format=%H -1 -- schema/0014_search.sql)~1
#   (cd /tmp/base && cmake --preset release && cmake --build --preset release --target crm-mailctl crm-maild)
# Usage: [BASE_TREE=DIR] bench/search-bench.sh [COUNT] [SYNC_COUNT] [SECONDS] [IMPORT_COUNT]
# Runs as root (test Dovecot); builds the release preset first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
count=${1:-100000}
sync_count=${2:-20000}
secs=${3:-20}
import_count=${4:-20000}
work=${BENCH_DIR:-$root/build/bench}
mkdir -p "$work"

echo "== 1. search latency on $count messages"
API_LOAD=bench/search_load.py bash bench/api-bench.sh "$count" "$sync_count" "$secs"

base=${BASE_TREE:-}
if [ -z "$base" ] || [ ! -x "$base/build/release/src/ctl/crm-mailctl" ]; then
  echo "== 2, 3: skipped (BASE_TREE with a release build not given)"
  exit 0
fi
base=$(cd "$base" && pwd)
gen=$work/gen-$import_count
if [ ! -d "$gen/cur" ] || [ ! -f "$gen-csv/users.csv" ]; then
  rm -rf "$gen" "$gen-csv"
  python3 bench/gen_maildir.py --out "$gen" --count "$import_count" --seed 1 --csv-dir "$gen-csv" >/dev/null
fi
echo "== 2. import of $import_count messages: A = this tree (with the index), B = $base"
import_once() { # label ctl
  local db=$work/search-import-$1.db
  rm -f "$db" "$db-wal" "$db-shm"
  "$2" --db "$db" db migrate >/dev/null
  for k in users companies contacts deals; do "$2" --db "$db" crm import "$k" "$gen-csv/$k.csv" >/dev/null; done
  local t0 t1 n
  t0=$(date +%s.%N)
  "$2" --db "$db" import --owner 1 "$gen" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  n=$(sqlite3 "$db" "SELECT count(*) FROM messages")
  python3 -c 'import sys; l, n, t0, t1, mb = sys.argv[1:]; s = float(t1) - float(t0)
print("  %s: %s messages in %.1f s = %.0f msg/s, database %s MB" % (l, n, s, int(n) / s, mb))' \
    "$1" "$n" "$t0" "$t1" "$(du -m "$db" | cut -f1)"
  rm -f "$db" "$db-wal" "$db-shm"
}
for round in 1 2; do
  import_once "A$round" "$root/build/release/src/ctl/crm-mailctl"
  import_once "B$round" "$base/build/release/src/ctl/crm-mailctl"
done
echo "== 3. initial sync: A = this tree, B = $base"
bash bench/sync-ab.sh "$root" "$base" 3 5000
