#!/usr/bin/env bash
# A/B of the initial sync between two builds: crm-maild of tree A and of tree B each sync the same
# COUNT generated messages (default 5000) from one local Dovecot over plain IMAP into a fresh
# SQLite database, PAIRS times (default 6), alternating which goes first. Prints wall seconds,
# peak RSS and CPU seconds (user + system) of every run, then the medians. CPU seconds are what
# to compare: on this VM load from other processes moves wall time far more than CPU time.
# Both trees must have a release build (cmake --preset release && cmake --build --preset release).
# Usage: bench/sync-ab.sh TREE_A TREE_B [PAIRS] [COUNT]   (runs as root: the test Dovecot)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
a=$(cd "$1" && pwd); b=$(cd "$2" && pwd)
pairs=${3:-6}
count=${4:-5000}
for t in "$a" "$b"; do
  [ -x "$t/build/release/src/daemon/crm-maild" ] || { echo "sync-ab: no release build in $t" >&2; exit 2; }
done
work=${BENCH_DIR:-$root/build/bench}/sync-ab
gen=${BENCH_DIR:-$root/build/bench}/gen-$count
[ -d "$gen/cur" ] || python3 bench/gen_maildir.py --out "$gen" --count "$count" --seed 1 >/dev/null
rm -rf "$work"; mkdir -p "$work"
dc=$work/dc
trap 'bash tests/integration/dovecot/stop.sh "$dc" >/dev/null 2>&1 || true' EXIT
bash tests/integration/dovecot/start.sh "$dc" --no-oauth2 >/dev/null
# shellcheck disable=SC1091
source "$dc/env"
# FILL_ARGS=--unseen: the mail arrives unread (the read marks are then made as it is stored).
# shellcheck disable=SC2086
python3 bench/fill_maildir.py "$dc/mail/alice" --from "$gen" ${FILL_ARGS:-} >/dev/null
chown -R "$MAIL_USER" "$dc/mail/alice"
n=$($DOVEADM mailbox status -u alice messages INBOX | sed 's/.*=//')
printf 'alice-pw' >"$work/alice.pw"
printf 'id,name,email,role\n1,Alice,alice@example.com,salesperson\n' >"$work/users.csv"
run() { # label tree
  local db=$work/$1.db
  rm -f "$db"*
  cat >"$work/$1.toml" <<TOML
[database]
path = "$db"
[daemon]
log_level = "debug"
[[accounts]]
name = "a"
owner_id = 1
address = "alice@example.com"
idle = false
initial_sync_days = 0
[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "alice"
password_file = "$work/alice.pw"
TOML
  # The account's owner exists (as in a deployment): its unseen mail is unread for them
  # (schema/0017's marks), which the sync then pays for.
  "$2/build/release/src/ctl/crm-mailctl" --db "$db" db migrate >/dev/null
  "$2/build/release/src/ctl/crm-mailctl" --db "$db" crm import users "$work/users.csv" >/dev/null
  sync
  local t0; t0=$(date +%s.%N)
  /usr/bin/time -o "$work/$1.time" -f "%M %U %S" "$2/build/release/src/daemon/crm-maild" \
    --config "$work/$1.toml" 2>"$work/$1.log" &
  local pid=$!
  while ! grep -q "event=batch: .*($n of $n)" "$work/$1.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { echo "crm-maild ($1) died:"; tail "$work/$1.log"; exit 1; }
    sleep 0.05
  done
  local t1; t1=$(date +%s.%N)
  pkill -TERM -P "$pid" || true
  wait "$pid" || true
  echo "$1 $(echo "$t1 - $t0" | bc -l) $(awk '{print $1 / 1024, $2 + $3}' "$work/$1.time")" | tee -a "$work/runs"
}
echo "sync A/B, $n messages: A = $a, B = $b"
for r in $(seq "$pairs"); do
  if [ $((r % 2)) = 1 ]; then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for side in A B; do
  printf '%s: median wall %.2f s, median CPU %.2f s over %s runs\n' "$side" \
    "$(awk -v s="$side" '$1 == s { print $2 }' "$work/runs" | median)" \
    "$(awk -v s="$side" '$1 == s { print $4 }' "$work/runs" | median)" \
    "$(awk -v s="$side" '$1 == s' "$work/runs" | wc -l)"
done
