#!/usr/bin/env bash
# What the full-text index costs the import (issue 19), on one binary, alternating:
#   A: crm-mailctl import as shipped (each message indexed in its own transaction);
#   N: the same import with the index write made a no-op (message_search replaced by a view whose
#      INSTEAD OF INSERT trigger does nothing), so the difference is the index alone;
# of IMPORT_COUNT generated messages (bench/gen_maildir.py, default 20,000) into a fresh
# database each time. Target (issue 19): A at most 25% slower than N.
# Usage: bench/index-cost.sh [IMPORT_COUNT] [ROUNDS]   (builds the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
rounds=${2:-3}
scripts/build.sh release >/dev/null
ctl=$PWD/build/release/src/ctl/crm-mailctl
work=${BENCH_DIR:-$PWD/build/bench}
mkdir -p "$work"
gen=$work/gen-$count
if [ ! -d "$gen/cur" ] || [ ! -f "$gen-csv/users.csv" ]; then
  rm -rf "$gen" "$gen-csv"
  python3 bench/gen_maildir.py --out "$gen" --count "$count" --seed 1 --csv-dir "$gen-csv" >/dev/null
fi
declare -A times
for r in $(seq "$rounds"); do
  for mode in A N; do
    db=$work/index-cost-$mode.db
    rm -f "$db" "$db-wal" "$db-shm"
    "$ctl" --db "$db" db migrate >/dev/null
    for k in users companies contacts deals; do "$ctl" --db "$db" crm import "$k" "$gen-csv/$k.csv" >/dev/null; done
    if [ "$mode" = N ]; then
      # sqlite3 cannot open the FTS5 table (our tokenizer is in crm-mailctl): unlink it.
      sqlite3 "$db" "PRAGMA writable_schema=ON; DELETE FROM sqlite_schema WHERE name LIKE 'message_search%' AND name != 'message_search_content'; PRAGMA writable_schema=OFF;"
      sqlite3 "$db" "CREATE VIEW message_search (rowid, subject, body, sender, recipients, files) AS SELECT 0, '', '', '', '', ''; CREATE TRIGGER message_search_noop INSTEAD OF INSERT ON message_search BEGIN SELECT 1; END;"
    fi
    t0=$(date +%s.%N)
    "$ctl" --db "$db" import --owner 1 "$gen" >/dev/null 2>&1 || true
    t1=$(date +%s.%N)
    n=$(sqlite3 "$db" "SELECT count(*) FROM messages")
    s=$(python3 -c "print('%.2f' % ($t1 - $t0))")
    times[$mode]="${times[$mode]:-} $s"
    echo "  round $r $mode: $n messages in $s s, database $(du -m "$db" | cut -f1) MB"
    rm -f "$db" "$db-wal" "$db-shm"
  done
done
python3 - "${times[A]}" "${times[N]}" <<'PY'
import statistics, sys
a = [float(x) for x in sys.argv[1].split()]
n = [float(x) for x in sys.argv[2].split()]
ma, mn = statistics.median(a), statistics.median(n)
print("median with the index %.2f s, without %.2f s: %+.0f%% (target at most +25%%): %s"
      % (ma, mn, (ma / mn - 1) * 100, "met" if ma <= mn * 1.25 else "NOT met"))
PY
