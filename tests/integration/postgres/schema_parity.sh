#!/bin/bash
# Starts a throwaway PostgreSQL 15 (initdb in a scratch directory, Unix socket only), runs
# schema_parity.py against it and stops it. Exit 77 (skip) without PostgreSQL's server binaries or
# the sqlite3/psql tools.
#
#   schema_parity.sh [SOURCE_DIR]
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/../../.." && pwd)}
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
for tool in "$pg_bin/initdb" "$pg_bin/pg_ctl"; do
    [[ -x $tool ]] || { echo "skip: no $tool (Debian postgresql-15)"; exit 77; }
done
for tool in psql sqlite3; do
    command -v "$tool" >/dev/null || { echo "skip: no $tool"; exit 77; }
done

work=$(mktemp -d /tmp/crm-pg-parity.XXXXXX)
as_pg=()
if [[ $(id -u) == 0 ]]; then
    # initdb refuses to run as root.
    chown postgres "$work"
    as_pg=(runuser -u postgres --)
fi
port=5499
stop() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap stop EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/data" -U postgres -A trust >"$work/initdb.log" 2>&1 ||
    { cat "$work/initdb.log"; exit 1; }
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/data" -w -l "$work/log" \
    -o "-k $work -p $port -c listen_addresses=''" start >/dev/null ||
    { cat "$work/log"; exit 1; }
python3 "$src/tests/integration/postgres/schema_parity.py" --schema "$src/schema" \
    "postgresql://postgres@/postgres?host=$work&port=$port"
