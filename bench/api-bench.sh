#!/usr/bin/env bash
# Thread view latency: p50/p90/p99 of the deal list and the thread view (bench/api_load.py) on a
# database of COUNT messages (default 100,000, bench/gen_maildir.py with its CRM CSVs), measured
#   1. with the daemon idle, and
#   2. while the daemon ingests: an initial sync of SYNC_COUNT more messages (default 20,000) from
#      a local Dovecot into the same database.
# Target: p99 under 50 ms. API_LOAD names another load script with api_load.py's arguments
# (bench/search-bench.sh runs bench/search_load.py this way).
# Usage: bench/api-bench.sh [--backend sqlite|postgresql] [COUNT] [SYNC_COUNT] [SECONDS]
# With --backend postgresql the database is a durable throwaway PostgreSQL 15
# (tests/integration/postgres/pg.sh), filled by crm-mailctl import as the SQLite one is.
# Runs as root (test Dovecot); builds the release preset first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
backend=sqlite
if [ "${1:-}" = --backend ]; then
  backend=${2:?--backend needs sqlite or postgresql}
  shift 2
fi
case "$backend" in sqlite | postgresql) ;; *) echo "api-bench: unknown backend $backend" >&2; exit 2 ;; esac
count=${1:-100000}
sync_count=${2:-20000}
secs=${3:-20}
scripts/install-deps.sh >/dev/null
scripts/build.sh release >/dev/null
ctl=$root/build/release/src/ctl/crm-mailctl
maild=$root/build/release/src/daemon/crm-maild
work=${BENCH_DIR:-$root/build/bench}
mkdir -p "$work"
gen=$work/gen-$count
[ -d "$gen/cur" ] || python3 bench/gen_maildir.py --out "$gen" --count "$count" --seed 1 --csv-dir "$gen-csv" >/dev/null
sync_gen=$work/gen-sync-$sync_count
[ -d "$sync_gen/cur" ] || python3 bench/gen_maildir.py --out "$sync_gen" --count "$sync_count" --seed 7 >/dev/null

if [ "$backend" = postgresql ]; then
  pgdir=$work/api-pg
  bash tests/integration/postgres/pg.sh start "$pgdir" --durable >/dev/null
  pg_url=$(cat "$pgdir/url")
  pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
  database_toml="url = \"postgresql://crm_test@127.0.0.1:$pg_port/crm_test\"
password_file = \"$pgdir/password\""
  # crm-mailctl finds the database through a config naming it.
  printf '[database]\n%s\n' "$database_toml" >"$work/api-pg-ctl.toml"
  ctl_db=(--config "$work/api-pg-ctl.toml")
  dbq() { psql -qtAX "$pg_url" -c "$1"; }
  "$ctl" "${ctl_db[@]}" db migrate >/dev/null
  for k in users companies contacts deals; do "$ctl" "${ctl_db[@]}" crm import "$k" "$gen-csv/$k.csv" >/dev/null; done
  echo "importing $count messages into PostgreSQL ..."
  t0=$(date +%s)
  "$ctl" "${ctl_db[@]}" import --owner 1 "$gen" >/dev/null 2>&1 || true
  echo "  imported in $(( $(date +%s) - t0 )) s"
  size_mb=$(dbq "SELECT pg_database_size(current_database()) / 1048576")
else
  db=$work/api-bench.db
  if [ ! -f "$db.done" ] || [ "$(cat "$db.done")" != "$count" ]; then
    rm -f "$db" "$db-wal" "$db-shm" "$db.done"
    "$ctl" --db "$db" db migrate >/dev/null
    for k in users companies contacts deals; do "$ctl" --db "$db" crm import "$k" "$gen-csv/$k.csv" >/dev/null; done
    echo "importing $count messages into $db ..."
    "$ctl" --db "$db" import --owner 1 "$gen" >/dev/null 2>&1 || true
    echo "$count" >"$db.done"
  fi
  snap=$work/api-bench-run.db
  cp "$db" "$snap"
  rm -f "$snap-wal" "$snap-shm"
  database_toml="path = \"$snap\""
  ctl_db=(--db "$snap")
  dbq() { sqlite3 "$snap" "$1"; }
  size_mb=$(du -m "$snap" | cut -f1)
fi
# API_PREP_SQL: statements run on the database before the daemon starts (bench/paging-bench.sh
# gives one deal 12,000 threads).
[ -z "${API_PREP_SQL:-}" ] || dbq "$API_PREP_SQL" >/dev/null
messages=$(dbq "SELECT count(*) FROM messages")
threads=$(dbq "SELECT count(*) FROM threads")
deals=$(dbq "SELECT count(*) FROM deals")
# Admin (user 1): sees every deal, the heaviest deal list.
"$ctl" "${ctl_db[@]}" tokens create 1 --name bench >"$work/token" 2>/dev/null

dc=$work/api-dc
pid=""
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null
  bash tests/integration/dovecot/stop.sh "$dc" >/dev/null 2>&1 || true
  [ "$backend" = sqlite ] || bash tests/integration/postgres/pg.sh stop "$pgdir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash tests/integration/dovecot/start.sh "$dc" --no-oauth2 >/dev/null
# shellcheck disable=SC1091
source "$dc/env"
dst=$dc/mail/alice
python3 bench/fill_maildir.py "$dst" --from "$sync_gen" # Dovecot-style names: see there
chown -R "$MAIL_USER" "$dst"
$DOVEADM mailbox status -u alice messages INBOX >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/api-bench.toml" <<TOML
[database]
$database_toml
[http]
port = $port
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@northwind-sales.example"
enabled = false
initial_sync_days = 0
idle = false
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "alice"
password = "alice-pw"
TOML
sed -i '1i allow_inline_secrets = true' "$work/api-bench.toml"
echo "database ($backend): $messages messages, $threads threads, $deals deals ($size_mb MB)"
"$maild" --config "$work/api-bench.toml" 2>"$work/api-bench-maild.log" & pid=$!
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
load=${API_LOAD:-bench/api_load.py}
python3 "$load" "http://127.0.0.1:$port" "$work/token" "$secs" --label "1. daemon idle" || true
# 2. Enable the account: the daemon starts its initial sync while the load runs.
sed -i 's/^enabled = false/enabled = true/' "$work/api-bench.toml"
before=$(dbq "SELECT count(*) FROM messages")
kill -HUP "$pid"
sleep 1
python3 "$load" "http://127.0.0.1:$port" "$work/token" "$secs" --label "2. while the daemon ingests" || true
after=$(dbq "SELECT count(*) FROM messages")
echo "  ingested during the run: $((after - before)) messages ($(( (after - before) / secs )) msg/s)"
