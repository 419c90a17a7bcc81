#!/usr/bin/env bash
# The initial sync window (issue 18): a COUNT-message INBOX (default 20000, bench/gen_maildir.py)
# whose dates are spread over the last two years (each file's INTERNALDATE is its Date, as in a
# mailbox that received the mail then), synced with initial_sync_days = DAYS (default 30):
#   - the time until every message of the last DAYS days is in the database, next to the time
#     until all of them are (backfill = true), ROUNDS times (default 3);
#   - with backfill = false: the time until the last DAYS days are in, and that nothing older is
#     fetched (counted once the daemon is idle);
#   - backfill at a lower priority: once the window is in, a new message is delivered; the time
#     until it is in the database, while the backfill still runs (a part of it each pass).
# Prints one line per run and a summary. Usage: bench/window-bench.sh [COUNT] [DAYS] [ROUNDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
count=${1:-20000}
days=${2:-30}
rounds=${3:-3}
scripts/install-deps.sh >/dev/null
scripts/build.sh release >/dev/null
maild=$root/build/release/src/daemon/crm-maild
work=${BENCH_DIR:-$root/build/bench}/window
rm -rf "$work"; mkdir -p "$work"
dc=$work/dc
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; bash tests/integration/dovecot/stop.sh "$dc" >/dev/null 2>&1 || true' EXIT
bash tests/integration/dovecot/start.sh "$dc" --no-oauth2 >/dev/null
# shellcheck disable=SC1091
source "$dc/env"
now=$(date +%s)
# Dated up to today, so the window holds mail (regenerated when the cached copy is a day old).
gen=${BENCH_DIR:-$root/build/bench}/gen-window-$count
if [ ! -d "$gen/cur" ] || [ "$(($(date +%s) - $(stat -c %Y "$gen")))" -gt 86400 ]; then
  rm -rf "$gen"
  python3 bench/gen_maildir.py --out "$gen" --count "$count" --seed 3 --until "$now" --span-days 730 >/dev/null
fi
python3 bench/fill_maildir.py "$dc/mail/alice" --from "$gen" --dates
chown -R "$MAIL_USER" "$dc/mail/alice"
n=$($DOVEADM mailbox status -u alice messages INBOX | sed 's/.*=//')
since=$((now - days * 86400))
# The window's messages by their Date (= INTERNALDATE here), counted from the files.
recent=$(python3 - "$gen" "$since" <<'PY'
import email.utils, os, re, sys
root, since, n = sys.argv[1], int(sys.argv[2]), 0
for sub in ("cur", "new"):
    d = os.path.join(root, sub)
    for f in os.listdir(d) if os.path.isdir(d) else []:
        head = re.split(rb"\r?\n\r?\n", open(os.path.join(d, f), "rb").read(), 1)[0]
        m = re.search(rb"^Date:[ \t]*(.+?)\r?$", head, re.M | re.I)
        if m and email.utils.parsedate_to_datetime(m.group(1).decode()).timestamp() >= since:
            n += 1
print(n)
PY
)
echo "window benchmark: $n messages over 730 days, $recent dated in the last $days days, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"

now_ms() { date +%s%3N; }
q() { sqlite3 -cmd ".timeout 2000" "$1" "$2" 2>/dev/null || echo 0; }
run() { # backfill(true|false) round
  local db=$work/crm-$1-$2.db log=$work/maild-$1-$2.log
  rm -f "$db"*
  cat >"$work/crm.toml" <<TOML
[database]
path = "$db"
[http]
port = $(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.com"
initial_sync_days = $days
backfill = $1
idle = false
poll_interval = 3600
[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "alice"
password_file = "$work/alice.pw"
TOML
  printf 'alice-pw' >"$work/alice.pw"
  local t0 t_recent="" t_done="" in_window total t_sent="" t_new="" new_id="window-new-$1-$2@bench.example"
  t0=$(now_ms)
  "$maild" --config "$work/crm.toml" 2>"$log" &
  pid=$!
  while :; do
    in_window=$(q "$db" "SELECT count(*) FROM messages WHERE date >= $since")
    [ -z "$t_recent" ] && [ "${in_window:-0}" -ge "$recent" ] && t_recent=$(($(now_ms) - t0))
    # New mail while the older mail is still being fetched.
    if [ "$1" = true ] && [ -n "$t_recent" ] && [ -z "$t_sent" ]; then
      printf 'From: Bench <b@bench.example>\r\nTo: alice@example.com\r\nSubject: new during backfill\r\nDate: %s\r\nMessage-ID: <%s>\r\n\r\nnew\r\n' \
        "$(date -R)" "$new_id" >"$work/new.eml"
      t_sent=$(now_ms)
      bash tests/integration/dovecot/seed.sh "$dc" alice "$work/new.eml" >/dev/null
    fi
    if [ -n "$t_sent" ] && [ -z "$t_new" ] && [ "$(q "$db" "SELECT count(*) FROM messages WHERE message_id = '$new_id'")" = 1 ]; then
      t_new=$(($(now_ms) - t_sent))
    fi
    # Every message stored (the backfill took several passes: each ends with its last batch).
    local want=$n
    [ -n "$t_sent" ] && want=$((n + 1))
    if [ -z "$t_done" ] && { [ "$(q "$db" "SELECT count(*) FROM messages")" -ge "$want" ] ||
      { [ "$1" = false ] && grep -qE "event=batch: .*\(([0-9]+) of \1\)" "$log"; }; }; then
      t_done=$(($(now_ms) - t0))
    fi
    [ -n "$t_recent" ] && [ -n "$t_done" ] && { [ "$1" = false ] || [ -n "$t_new" ]; } && break
    kill -0 "$pid" 2>/dev/null || { echo "crm-maild exited: $(tail -2 "$log")"; break; }
    [ $(($(now_ms) - t0)) -gt 900000 ] && { echo "timeout after 900 s"; break; }
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; pid=""
  total=$(q "$db" "SELECT count(*) FROM messages")
  # SEARCH SINCE compares days, not instants: a day's slack before the window is the server's.
  local older
  older=$(q "$db" "SELECT count(*) FROM messages WHERE date < $((since - 86400))")
  local pending
  pending=$(q "$db" "SELECT backfill_pending FROM accounts WHERE name = 'alice'")
  echo "round $2 backfill=$1: last $days days in after ${t_recent:-?} ms; all done after ${t_done:-?} ms; $total messages stored, $older older than the window${t_new:+; new mail during the backfill in after $t_new ms}; backfill_pending at the end: ${pending:-?}"
}
for r in $(seq 1 "$rounds"); do
  run true "$r"
  run false "$r"
done
