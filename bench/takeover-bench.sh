#!/usr/bin/env bash
# Lease takeover after a worker dies (issue 17): two crm-maild workers share four accounts of a
# local Dovecot on a throwaway PostgreSQL 15; ROUNDS times (default 10) the worker holding the
# most accounts is killed with SIGKILL, and the time until the survivor holds every account is
# measured (the database's own view: account_leases). The killed worker is then started again and
# the accounts are shared out before the next round. Prints each round, the median and the worst.
# The takeover is bounded by lease_seconds (LEASE, default 10 here; 75 in production) plus one
# renewal interval (a quarter of it).
# Usage: bench/takeover-bench.sh [ROUNDS]   (runs as root; builds the release preset first)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${1:-10}
lease=${LEASE:-10}
scripts/install-deps.sh >/dev/null
scripts/build.sh release >/dev/null
maild=$root/build/release/src/daemon/crm-maild
ctl=$root/build/release/src/ctl/crm-mailctl
work=${BENCH_DIR:-$root/build/bench}/takeover
rm -rf "$work"; mkdir -p "$work"
pids=(0 0)
cleanup() {
  for p in "${pids[@]}"; do [ "$p" != 0 ] && kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null || true
  bash tests/integration/dovecot/stop.sh "$work/dc" >/dev/null 2>&1 || true
  bash tests/integration/postgres/pg.sh stop "$work/pg" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash tests/integration/dovecot/start.sh "$work/dc" --no-oauth2 --users "dave erin" >/dev/null
# shellcheck disable=SC1091
source "$work/dc/env"
bash tests/integration/postgres/pg.sh start "$work/pg" >/dev/null
pg_url=$(cat "$work/pg/url")
pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
q() { psql -qtAX "$pg_url" -c "$1"; }
users=(alice bob carol dave)
for i in 0 1; do
  {
    printf '[database]\nurl = "postgresql://crm_test@127.0.0.1:%s/crm_test"\n' "$pg_port"
    printf 'password_file = "%s"\nlease_seconds = %s\n[http]\nport = %s\n' "$work/pg/password" "$lease" "$((18600 + i))"
    for u in "${users[@]}"; do
      printf '%s-pw' "$u" >"$work/$u.pw"
      cat <<TOML
[[accounts]]
name = "$u"
owner_id = 1
address = "$u@example.com"
[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "$u"
password_file = "$work/$u.pw"
TOML
    done
  } >"$work/w$i.toml"
done
CRM_MAIL_CONFIG=$work/w0.toml "$ctl" db migrate >/dev/null
start() { "$maild" --config "$work/w$1.toml" 2>>"$work/w$1.log" & pids[$1]=$!; }
held_by() { # pid -> live leases of that worker
  q "SELECT count(*) FROM account_leases l JOIN workers w ON w.id = l.worker_id
     WHERE w.pid = $1 AND l.expires_at > now()"
}
now_ms() { date +%s%3N; }
start 0; start 1
: >"$work/times"
for r in $(seq "$rounds"); do
  # Wait until the two share the four accounts (two each), as after any restart.
  for _ in $(seq 600); do
    [ "$(held_by "${pids[0]}")" = 2 ] && [ "$(held_by "${pids[1]}")" = 2 ] && break
    sleep 0.1
  done
  victim=$(( r % 2 )); survivor=$(( 1 - victim ))
  kill -KILL "${pids[$victim]}"; wait "${pids[$victim]}" 2>/dev/null || true
  t0=$(now_ms)
  until [ "$(held_by "${pids[$survivor]}")" = 4 ]; do
    [ $(( $(now_ms) - t0 )) -lt $(( (lease * 3) * 1000 )) ] || { echo "round $r: no takeover after $((lease * 3)) s"; tail "$work"/w*.log; exit 1; }
    sleep 0.05
  done
  t=$(( $(now_ms) - t0 ))
  echo "round $r: worker $victim killed, its 2 accounts taken over in $t ms"
  echo "$t" >>"$work/times"
  start "$victim"
done
sort -n "$work/times" | awk -v lease="$lease" '{ t[NR] = $1 } END {
  med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
  printf "takeover after SIGKILL over %d rounds (lease_seconds = %d, renewal every %.1f s): median %.1f s, worst %.1f s\n",
    NR, lease, lease / 4, med / 1000, t[NR] / 1000 }'
