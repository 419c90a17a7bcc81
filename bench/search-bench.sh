#!/usr/bin/env bash
# Full-text search (issue 19), three figures:
#   1. search latency: p50/p90/p99 per kind of query (bench/search_load.py: one word, two words,
#      a phrase, from: with a word, Chinese substrings of two characters and of one, a second
#      page) on COUNT messages (default 100,000, bench/gen_maildir.py), with the daemon idle and
#      while it ingests SYNC_COUNT more (api-bench.sh's setup, API_LOAD=bench/search_load.py).
#      Target: p99 under 100 ms.
#   2. what the index costs the import: bench/index-cost.sh, `crm-mailctl import` of
#      IMPORT_COUNT generated messages (default 20,000) with and without the index write, on
#      this tree's binary, alternating.
#   3. what it costs the sync: bench/sync-ab.sh between the two trees.
#      Target for 2 and 3: at most 25% slower.
# BASE_TREE must hold a release build of crm-mailctl and crm-maild; without it part 3 is
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

echo "== 2. what the index costs an import of $import_count messages"
bash bench/index-cost.sh "$import_count" 2

base=${BASE_TREE:-}
if [ -z "$base" ] || [ ! -x "$base/build/release/src/ctl/crm-mailctl" ]; then
  echo "== 3: skipped (BASE_TREE with a release build not given)"
  exit 0
fi
base=$(cd "$base" && pwd)
echo "== 3. initial sync: A = this tree, B = $base"
bash bench/sync-ab.sh "$root" "$base" 3 5000
