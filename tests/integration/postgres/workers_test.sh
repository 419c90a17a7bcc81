#!/usr/bin/env bash
# Three crm-maild workers on one PostgreSQL, twelve Dovecot accounts (issue 17, "Tests"):
#   1. steady state: every account held by exactly one worker, four each; every message of every
#      INBOX stored exactly once (messages = distinct Message-ID+body, one location per UID, the
#      checkpoint at the server's UIDNEXT); Dovecot's own log: no user has IMAP sessions from two
#      workers at the same time (sessions attributed to workers by their client port, from `ss`
#      snapshots)
#   2. SIGKILL a worker: its accounts are claimed by the others within lease + renewal + slack
#      (the takeover time is printed); mail delivered after the kill arrives, nothing twice;
#      a replacement worker gets its fair share back
#   3. SIGSTOP a worker past its lease while it syncs a large batch, SIGCONT: its accounts were
#      taken over meanwhile, it notices the lost leases and stops them, its late writes are
#      refused (PostgreSQL's log shows the epoch fence's refusals), no checkpoint ever went
#      backwards, nothing stored twice
#   4. 30 replies across the workers' accounts while workers are SIGKILLed at random and replaced:
#      each delivered at most once through the real Postfix, 'sent' only when delivered, none
#      left 'queued'/'sending', 'unknown'/'failed' always with a reason
#   5. /healthz names the worker and its leases; PostgreSQL stopped for ~8 s (longer than a lease:
#      every lease expires meanwhile) and started
#      again: no worker crashes, sync resumes (mail delivered after the restart is stored)
#   and throughout: every claim's epoch is new (the lease history in the workers' logs agrees with
#   the database), SIGTERM releases the leases, no password in any log.
#   workers_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (not root, no Dovecot,
# Postfix or PostgreSQL 15). CRM_TEST_KEEP=1 keeps the temp dir.
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration/postgres
dcs=$root/tests/integration/dovecot
pfs=$root/tests/integration/postfix
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
export TZ=UTC # Dovecot's log times are read as UTC

# shellcheck source=../lib.sh
. "$root/tests/integration/lib.sh"
need_root_and dovecot doveadm postfix psql python3 ss curl runuser
[ -x "$PG_BIN/pg_ctl" ] || { echo "SKIP: no PostgreSQL 15 in $PG_BIN"; exit 77; }

LEASE=6          # [database] lease_seconds; the workers renew every LEASE/4 s (1 s here)
RENEW=1
SLACK=4          # claim tick, a slow 2-core machine
work=$(mktemp -d /tmp/crm-pgworkers.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pf=$work/pf
pgd=$work/pg
pids=()
samplers=()
log_tail=20
cleanup() {
  local p
  for p in "${samplers[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null; done
  "$pfs/stop.sh" "$pf" >/dev/null 2>&1
  "$here/pg.sh" stop "$pgd" >/dev/null 2>&1
  cleanup_dovecot_test
}
trap cleanup EXIT
trap 'exit 130' INT TERM
check() { # description command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}
gen() { python3 "$here/workers_mail.py" "$@"; }

# --- servers ------------------------------------------------------------------------------------
users="u01 u02 u03 u04 u05 u06 u07 u08 u09 u10 u11 u12"
if ! envfile=$("$dcs/start.sh" "$dc" --users "$users" --no-oauth2 2>"$work/dc-start.err"); then
  bad "dovecot start: $(cat "$work/dc-start.err")"; finish
fi
# shellcheck disable=SC1090
. "$envfile"
# Microsecond times and the client's port in the login lines, to tell the workers' sessions apart.
cat >>"$dc/dovecot.conf" <<'EOF'
log_timestamp = "%Y-%m-%d %H:%M:%S.%{usecs} "
login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l mpid=%e %c session=<%{session}>
EOF
$DOVEADM reload || bad "dovecot reload"
# The reload restarts Dovecot's services: wait for the auth socket Postfix checks at its start.
sleep 0.5
wait_until 10 test -S "$AUTH_SOCKET" || bad "Dovecot's auth socket after the reload"
if ! pfenv=$("$pfs/start.sh" "$pf" "$dc" 2>"$work/pf-start.err"); then
  bad "postfix start: $(cat "$work/pf-start.err")"; finish
fi
# shellcheck disable=SC1090
. "$pfenv"
if ! "$here/pg.sh" start "$pgd" >"$work/pg-start.out" 2>&1; then
  bad "PostgreSQL start: $(tail -5 "$work/pg-start.out")"; finish
fi
pg_port=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' "$pgd/url")
# Diagnostics: lock waits over 0.5 s go to PostgreSQL's log (which statement waits for which).
pg_sock=$(sed -n 's|.*host=\([^&]*\)&.*|\1|p' "$pgd/socket_url")
(cd / && runuser -u postgres -- psql -X -q -h "$pg_sock" -p "$pg_port" -d postgres \
  -c "ALTER SYSTEM SET log_lock_waits = on" -c "ALTER SYSTEM SET deadlock_timeout = '500ms'" \
  -c "SELECT pg_reload_conf()") >/dev/null || bad "log_lock_waits"
db_url="postgresql://crm_test@127.0.0.1:$pg_port/crm_test"
sql() { PGCONNECT_TIMEOUT=5 psql -X -q -At -v ON_ERROR_STOP=1 "$(cat "$pgd/url")" -c "$1"; }

t0=$(now_ms)
gen fill "$dc/mail" --users "$users" --per-user 30 --shared 40 || bad "fill the INBOXes"
chown -R "$MAIL_USER:$MAIL_USER" "$dc/mail"
echo "mail generated in $(($(now_ms) - t0)) ms"

# --- configuration: three files that differ only in [http] port --------------------------------
secrets=$work/secrets
mkdir -p "$secrets"
chmod 0700 "$secrets"
for u in $users; do printf '%s-pw\n' "$u" >"$secrets/$u"; done
chmod 0600 "$secrets"/*
write_config() { # file http_port
  {
    cat <<EOF
[database]
url = "$db_url"
password_file = "$pgd/password"
lease_seconds = $LEASE

[daemon]
log_level = "info"

[http]
bind = "127.0.0.1"
port = $2

EOF
    for u in $users; do
      cat <<EOF
[[accounts]]
name = "$u"
owner_id = 1
address = "$u@team.example"
poll_interval = 10
initial_sync_days = 0
batch_messages = 100
folders = ["INBOX"]

[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "$u"
password_file = "$secrets/$u"

[accounts.smtp]
host = "127.0.0.1"
port = $SMTPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "$u"
password_file = "$secrets/$u"

EOF
    done
  } >"$1"
}
cfg=$work/w1.toml # the one crm-mailctl reads (all are the same but for the port)
ctlpg() { CRM_MAIL_CONFIG=$cfg "$ctl" "$@"; }

# crm-mailctl migrates; the CRM application (SQL) adds the team lead who owns the accounts.
write_config "$cfg" "$(free_port)"
ctlpg db migrate >"$work/migrate.out" 2>&1 && ok "crm-mailctl db migrate on PostgreSQL" ||
  bad "db migrate: $(tail -3 "$work/migrate.out")"
now=$(date +%s)
sql "INSERT INTO users (id, name, email, role, created_at, updated_at)
     VALUES (1, 'Team Lead', 'lead@team.example', 'salesperson', $now, $now);
     SELECT setval(pg_get_serial_sequence('users', 'id'), 1)" >/dev/null || bad "CRM user"

# --- workers --------------------------------------------------------------------------------------
declare -A wpid wport
nworkers=0
start_worker() { # label: a crm-maild on its own copy of the config (another [http] port)
  local label=$1
  wport[$label]=$(free_port)
  write_config "$work/$label.toml" "${wport[$label]}"
  CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/$label.toml" >>"$work/$label.log" 2>&1 </dev/null &
  wpid[$label]=$!
  pids+=("$!")
  echo "$! $label" >>"$work/pids"
  nworkers=$((nworkers + 1))
}
live_labels() { local l; for l in "${!wpid[@]}"; do alive "${wpid[$l]}" && echo "$l"; done | sort; }

# `crm-mailctl workers --json` digested, one call each:
#   lease_table: "ACCOUNT PID EPOCH" per account (PID 0: no live worker holds it)
#   held: "PID:N" per worker holding N > 0 accounts, sorted
workers_json() { ctlpg workers --json 2>>"$work/ctl.err"; }
lease_table() {
  workers_json | python3 -c '
import json, sys
try:
    ws = json.load(sys.stdin)
except ValueError:
    sys.exit(1)
for w in ws:
    for a in w["accounts"]:
        print(a["account"], w.get("pid", 0), a["epoch"])'
}
held() { lease_table | awk '$2 != 0 { n[$2]++ } END { for (p in n) print p ":" n[p] }' | sort | xargs; }
holder() { awk -v a="$1" '$1 == a { print $2 }' <<<"$2"; } # ACCOUNT TABLE
epoch() { awk -v a="$1" '$1 == a { print $3 }' <<<"$2"; }   # ACCOUNT TABLE
# True when the workers PIDS hold every account, N each (lists in the same order).
held_as() { # "pid pid ..." "n n ..."
  local t want="" i
  t=$(lease_table) || return 1
  [ "$(awk '$2 == 0' <<<"$t" | wc -l)" = 0 ] && [ "$(wc -l <<<"$t")" = 12 ] || return 1
  local -a p=($1) n=($2)
  for i in "${!p[@]}"; do want+="${p[$i]}:${n[$i]}"$'\n'; done
  [ "$(awk '{ n[$2]++ } END { for (p in n) print p ":" n[p] }' <<<"$t" | sort | xargs)" = \
    "$(printf '%s' "$want" | sort | xargs)" ]
}
accounts_of() { lease_table | awk -v p="$1" '$2 == p { print $1 }' | sort | xargs; }
# Every account held by one of the live workers PIDS, each holding 12/live (rounded) of them.
balanced() { # pid...
  lease_table | python3 -c '
import collections, sys
live = [int(x) for x in sys.argv[1:]]
rows = [l.split() for l in sys.stdin if l.strip()]
n = collections.Counter(int(r[1]) for r in rows)
ok = len(rows) == 12 and set(n) <= set(live) and \
     all(12 // len(live) <= n[p] <= -(-12 // len(live)) for p in live)
sys.exit(0 if ok else 1)' "$@"
}

# --- the store against the Maildirs --------------------------------------------------------------
expect() { gen expect "$dc/mail" --users "$users" >"$work/expect.json"; }
db_listing() {
  sql "SELECT a.name, m.message_id FROM locations l JOIN mailboxes b ON b.id = l.mailbox_id
       JOIN accounts a ON a.id = l.account_id JOIN messages m ON m.id = l.message_id
       WHERE b.name = 'INBOX'" >"$work/db.txt" 2>>"$work/sql.err"
}
# Every INBOX message has exactly one location in its account, nothing else is there.
store_matches() {
  expect && db_listing && python3 - "$work/expect.json" "$work/db.txt" "${1:-quiet}" <<'EOF'
import collections, json, sys
want = json.load(open(sys.argv[1]))["users"]
got = collections.defaultdict(list)
for line in open(sys.argv[2]):
    if "|" in line:
        acc, mid = line.rstrip("\n").split("|", 1)
        got[acc].append(mid)
bad = []
for u, ids in want.items():
    g = sorted(got.get(u, []))
    if g != ids:
        missing = collections.Counter(ids) - collections.Counter(g)
        extra = collections.Counter(g) - collections.Counter(ids)
        bad.append("%s: %d of %d, missing %d, extra %d %s" % (
            u, len(g), len(ids), sum(missing.values()), sum(extra.values()),
            list(extra.items())[:3]))
if bad and sys.argv[3] == "loud":
    print("; ".join(bad))
sys.exit(1 if bad else 0)
EOF
}
server_uidnext() { $DOVEADM -f flow mailbox status -u "$1" uidnext INBOX | sed -n 's/.*uidnext=\([0-9]*\).*/\1/p'; }
checkpoints_at_server() {
  local u got want rc=0
  for u in $users; do
    want=$(server_uidnext "$u")
    got=$(sql "SELECT b.uid_next FROM mailboxes b JOIN accounts a ON a.id = b.account_id
               WHERE a.name = '$u' AND b.name = 'INBOX'")
    [ "$got" = "$want" ] || { echo "  $u: checkpoint $got, server UIDNEXT $want"; rc=1; }
  done
  return $rc
}
store_checks() { # label
  local label=$1
  wait_until 60 store_matches && ok "$label: every INBOX message stored, one location each" ||
    bad "$label: store vs INBOXes: $(store_matches loud)"
  # The replies of part 4 are stored as messages too (outgoing): they are not in the INBOXes.
  expect_eq "$(sql "SELECT count(*) FROM messages WHERE message_id NOT IN (SELECT message_id FROM outbox)")" \
    "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["distinct"])' "$work/expect.json")" \
    "$label: messages = distinct Message-ID+body pairs in the INBOXes"
  expect_eq "$(sql "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY message_id, content_hash
                    HAVING count(*) > 1) d")" 0 "$label: no message stored twice"
  expect_eq "$(sql "SELECT count(*) FROM (SELECT 1 FROM locations WHERE mailbox_id IS NOT NULL
                    GROUP BY account_id, mailbox_id, uid_validity, uid HAVING count(*) > 1) d")" 0 \
    "$label: locations unique per (account, mailbox, UID)"
  wait_until 20 checkpoints_at_server >/dev/null && ok "$label: every checkpoint at the server's UIDNEXT" ||
    bad "$label: checkpoints: $(checkpoints_at_server)"
}

# --- samplers: connections to Dovecot (for the session attribution), checkpoints --------------
(
  while :; do
    t=$(date +%s%3N)
    ss -tnpH state established "( dport = :$IMAP_PORT )" | sed "s/^/$t /"
    sleep 0.2
  done
) >>"$work/ss.samples" 2>/dev/null &
samplers+=($!)
(
  while :; do
    sql "SELECT extract(epoch FROM clock_timestamp())::bigint, a.name, b.uid_validity, b.uid_next
         FROM mailboxes b JOIN accounts a ON a.id = b.account_id" 2>/dev/null
    sleep 0.5
  done
) >>"$work/checkpoints.samples" &
samplers+=($!)
(
  while :; do
    sql "SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint, pid,
                (extract(epoch FROM clock_timestamp() - heartbeat_at) * 1000)::bigint
         FROM workers" 2>/dev/null
    sleep 0.5
  done
) >>"$work/heartbeats.samples" &
samplers+=($!)

# =================================================================================================
# 1. steady state
# =================================================================================================
echo "--- 1. three workers, twelve accounts"
t0=$(now_ms)
start_worker w1
start_worker w2
start_worker w3
if wait_until 30 held_as "${wpid[w1]} ${wpid[w2]} ${wpid[w3]}" "4 4 4"; then
  ok "every account held by one worker, 4 each ($(($(now_ms) - t0)) ms after the start)"
else
  bad "leases after 30 s: $(held) (pids ${wpid[w1]} ${wpid[w2]} ${wpid[w3]})"
fi
workers_json >"$work/workers1.json"
python3 - "$work/workers1.json" <<'EOF' && ok "workers --json: hosts, pids, epochs >= 1, leases running" || bad "workers --json: $(head -c 600 "$work/workers1.json")"
import json, sys
ws = json.load(open(sys.argv[1]))
live = [w for w in ws if w["worker"] != 0]
assert len(live) == 3, live
for w in live:
    assert w["host"] and w["pid"] > 0, w
    for a in w["accounts"]:
        assert a["epoch"] >= 1 and 0 < a["lease_expires_in_seconds"] <= 7, a
        assert "lag_seconds" in a, a
names = sorted(a["account"] for w in live for a in w["accounts"])
assert names == ["u%02d" % i for i in range(1, 13)], names
EOF
t0=$(now_ms)
store_checks "steady state"
echo "initial sync of $(sql "SELECT count(*) FROM messages") messages in $(($(now_ms) - t0)) ms after the leases"
for l in w1 w2 w3; do check "$l still running" alive "${wpid[$l]}"; done
python3 "$here/workers_sessions.py" "$dc/dovecot.log" "$work/ss.samples" "$work/pids" \
  >"$work/sessions1.txt" && ok "Dovecot: no user with sessions from two workers at once ($(head -1 "$work/sessions1.txt"))" ||
  bad "Dovecot sessions: $(cat "$work/sessions1.txt")"

# =================================================================================================
# 2. SIGKILL one worker
# =================================================================================================
echo "--- 2. SIGKILL a worker"
victim=${wpid[w2]}
lost_accounts=$(accounts_of "$victim")
declare -A epoch_before
t=$(lease_table)
for a in $lost_accounts; do epoch_before[$a]=$(epoch "$a" "$t"); done
t_kill=$(now_ms)
kill -KILL "$victim"
echo "$victim $t_kill" >>"$work/kills"
wait "$victim" 2>/dev/null
for a in $lost_accounts; do gen lmtp "$LMTP_PORT" "$a" --count 3 --tag afterkill || bad "LMTP to $a"; done
taken_over() {
  local a h t
  t=$(lease_table) || return 1
  for a in $lost_accounts; do
    h=$(holder "$a" "$t")
    [ "$h" = "${wpid[w1]}" ] || [ "$h" = "${wpid[w3]}" ] || return 1
    [ "$(epoch "$a" "$t")" -gt "${epoch_before[$a]}" ] || return 1
  done
}
limit=$((LEASE + RENEW + SLACK))
if wait_until 30 taken_over; then
  takeover=$(($(now_ms) - t_kill))
  echo "takeover after SIGKILL: $takeover ms (lease $LEASE s, renewal every $RENEW s)"
  [ "$takeover" -le $((limit * 1000)) ] && ok "its 4 accounts claimed by the others in $takeover ms (<= $limit s)" ||
    bad "takeover took $takeover ms (> $limit s)"
else
  bad "accounts of the killed worker not taken over in 30 s: $(held)"
fi
check "the survivors hold 6 each" held_as "${wpid[w1]} ${wpid[w3]}" "6 6"
store_checks "after SIGKILL"
# A replacement worker: the others hand over to it (over their share), without waiting for expiry.
t0=$(now_ms)
start_worker w4
wait_until 20 held_as "${wpid[w1]} ${wpid[w3]} ${wpid[w4]}" "4 4 4" &&
  ok "a new worker gets its share: 4/4/4 again in $(($(now_ms) - t0)) ms" ||
  bad "rebalance after a new worker: $(held)"

# =================================================================================================
# 3. SIGSTOP a worker past its lease while it syncs, then SIGCONT
# =================================================================================================
echo "--- 3. SIGSTOP a worker while it syncs"
victim=${wpid[w1]}
paused_accounts=$(accounts_of "$victim")
declare -A base
t=$(lease_table)
for a in $paused_accounts; do
  epoch_before[$a]=$(epoch "$a" "$t")
  base[$a]=$(sql "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id WHERE a.name = '$a'")
done
for a in $paused_accounts; do gen batch "$dc/mail" "$a" --count 600 --tag big || bad "batch for $a"; done
chown -R "$MAIL_USER:$MAIL_USER" "$dc/mail"
syncing() { # the victim has stored part of the batch of one of its accounts
  local a n
  for a in $paused_accounts; do
    n=$(sql "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id WHERE a.name = '$a'")
    [ "$n" -gt "${base[$a]}" ] && [ "$n" -lt $((base[$a] + 600)) ] && return 0
  done
  return 1
}
was_syncing=0
wait_until 30 syncing && { was_syncing=1; ok "the worker is syncing the batch"; } ||
  echo "note: the batch was not seen in progress"
victim_worker=$(workers_json | python3 -c '
import json, sys
print([w["worker"] for w in json.load(sys.stdin) if w.get("pid") == int(sys.argv[1])][0])' "$victim")
stored_before=$(sql "SELECT count(*) FROM messages")
t_stop=$(now_ms)
kill -STOP "$victim"
sleep $((LEASE + 4))
others_hold() {
  local a h t
  t=$(lease_table) || return 1
  for a in $paused_accounts; do
    h=$(holder "$a" "$t")
    [ -n "$h" ] && [ "$h" != "$victim" ] && [ "$h" != 0 ] || return 1
    [ "$(epoch "$a" "$t")" -gt "${epoch_before[$a]}" ] || return 1
  done
}
if others_hold; then
  ok "while it was stopped, its accounts were claimed by the others (new epochs)"
else
  bad "after $((LEASE + 4)) s stopped: $(lease_table | xargs) (victim $victim)"
  sql "SELECT pid, state, now() - xact_start, left(query, 120) FROM pg_stat_activity
       WHERE datname = 'crm_test' AND state <> 'idle'" >"$work/activity.txt" 2>&1
  echo "sessions in a transaction:"; cat "$work/activity.txt"
fi
mark=$(wc -l <"$work/w1.log")
pg_mark=$(wc -l <"$pgd/server.log")
t_cont=$(now_ms)
kill -CONT "$victim"
lost_logged() { tail -n +"$((mark + 1))" "$work/w1.log" | grep -q "lease lost"; }
wait_until 10 lost_logged && ok "after SIGCONT it logs its lost leases: $(tail -n +"$((mark + 1))" "$work/w1.log" | grep -c 'lease lost') account(s) stopped" ||
  bad "no 'lease lost' from the resumed worker: $(tail -n +"$((mark + 1))" "$work/w1.log" | head -5)"
t_noticed=$(now_ms)
sleep 2
check "the resumed worker is still running" alive "$victim"
refused=$(tail -n +"$((pg_mark + 1))" "$pgd/server.log" | grep -c "worker $victim_worker does not hold the lease")
late=$(tail -n +"$((mark + 1))" "$work/w1.log" | grep -c "lease.lost")
echo "after SIGCONT: $refused write(s) of worker $victim_worker refused by the epoch fence (PostgreSQL's log), $late lease.lost error(s) in its log"
if [ "$was_syncing" = 1 ]; then
  # Refused either by the database (account_lease_held, CR001 in PostgreSQL's log) or, once the
  # worker's renewal has found the leases lost, by its own fence before anything is sent; the
  # transaction it was paused in was ended by the server (idle_in_transaction_session_timeout).
  # Either way nothing it wrote late is applied: the state checks below.
  [ "$late" -gt 0 ] && ok "its late writes were refused by the epoch fence (PostgreSQL $refused, its own fence $late)" ||
    bad "no late write of the resumed worker refused (PostgreSQL $refused, its log $late)"
fi
tail -n +"$((mark + 1))" "$work/w1.log" | grep -E "lease|account=" | head -12 | sed 's/^/  w1: /'
store_checks "after SIGSTOP/SIGCONT"
python3 - "$work/checkpoints.samples" <<'EOF' >"$work/monotonic.txt" && ok "no checkpoint ever went backwards ($(cat "$work/monotonic.txt"))" || bad "checkpoint went backwards: $(cat "$work/monotonic.txt")"
import sys
last, n, back = {}, 0, []
for line in open(sys.argv[1]):
    parts = line.strip().split("|")
    if len(parts) != 4 or not parts[3]:
        continue
    t, acc, validity, nxt = parts
    n += 1
    key = (acc, validity)
    if key in last and int(nxt) < last[key][1]:
        back.append("%s %s -> %s at %s (was at %s)" % (acc, last[key][1], nxt, t, last[key][0]))
    if key not in last or int(nxt) >= last[key][1]:
        last[key] = (t, int(nxt))
print("%d samples" % n if not back else "; ".join(back[:5]))
sys.exit(1 if back else 0)
EOF
wait_until 30 balanced "${wpid[w1]}" "${wpid[w3]}" "${wpid[w4]}" &&
  ok "the resumed worker gets a fair share again" || bad "after SIGCONT: $(held)"

# =================================================================================================
# 4. replies while workers are killed at random
# =================================================================================================
echo "--- 4. 30 replies, workers killed at random"
printf 'Hello,\n\nthank you, see the offer below.\n\nTeam\n' >"$work/body.txt"
: >"$work/replies"
via=ctl
queue_reply() { # n: reply number n (1..30), from account u01..u12 in turn, to the customer
  local n=$1 u k thread id=""
  u=$(printf 'u%02d' $(( (n - 1) % 12 + 1 )))
  k=$(( (n - 1) / 12 ))
  thread=$(sql "SELECT thread_id FROM messages WHERE message_id = 'own-$u-$k@customer.example'")
  if [ "$via" = ctl ]; then
    id=$(ctlpg reply "$thread" --account "$u" --to customer@customer.example \
           --body-file "$work/body.txt" 2>>"$work/reply.err")
    if [ -z "$id" ] && [ "$n" = 1 ]; then
      echo "note: crm-mailctl reply on PostgreSQL failed ($(tail -1 "$work/reply.err")): queueing over SQL as the CRM application would"
      via=sql
    fi
  fi
  if [ "$via" = sql ]; then
    local now
    now=$(date +%s)
    # Every NOT NULL column as src/store/outbox.cpp queue() fills it.
    id=$(sql "INSERT INTO outbox (account_id, user_id, thread_id, parent_id, deal_id, message_id,
                mode, to_json, cc_json, bcc_json, subject, text_body, html_body, attachments_json,
                state, attempts, next_attempt_at, created_at, updated_at, in_reply_to, refs)
              SELECT a.id, 1, m.thread_id, m.id, NULL,
                'crm.0.' || md5(random()::text || clock_timestamp()::text) || '@team.example',
                'custom', '[[\"Customer\",\"customer@customer.example\"]]', '[]', '[]',
                'Re: ' || m.subject, 'Hello, thank you. Team', '', '[]', 'queued', 0, $now,
                $now, $now, m.message_id, m.message_id
              FROM accounts a, messages m
              WHERE a.name = '$u' AND m.message_id = 'own-$u-$k@customer.example'
              RETURNING id" | head -1)
  fi
  [ -n "$id" ] && echo "$id" >>"$work/replies" || bad "reply $n ($u) not queued"
}
outbox_states() { sql "SELECT string_agg(state || ':' || n, ' ') FROM (SELECT state, count(*) n FROM outbox GROUP BY state) s"; }
# Five waves of six replies (each wave spans six accounts, so several workers); a random worker
# is SIGKILLed 0-0.8 s after each wave, while it sends, and a replacement started at once.
kills=0
for wave in 0 1 2 3 4 5; do
  if [ "$wave" -lt 5 ]; then
    for j in 1 2 3 4 5 6; do queue_reply $((wave * 6 + j)); done
  fi
  sleep "$(python3 -c 'import random; print(round(random.uniform(0, 0.8), 2))')"
  mapfile -t live < <(live_labels)
  l=${live[$((RANDOM % ${#live[@]}))]}
  kill -KILL "${wpid[$l]}"
  echo "${wpid[$l]} $(now_ms)" >>"$work/kills"
  wait "${wpid[$l]}" 2>/dev/null
  kills=$((kills + 1))
  start_worker "w$((nworkers + 1))"
  echo "  killed $l ($(outbox_states))"
done
expect_eq "$(wc -l <"$work/replies")" 30 "30 replies queued (via $via)"
settled() { [ "$(sql "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')")" = 0 ]; }
t0=$(now_ms)
wait_until 120 settled && ok "no reply left queued or sending ($(($(now_ms) - t0)) ms after the last kill)" ||
  bad "replies not settled: $(sql "SELECT id, state, attempts, last_error FROM outbox WHERE state IN ('queued', 'sending')")"
queue_empty() { $POSTQUEUE -p 2>/dev/null | grep -q "Mail queue is empty"; }
wait_until 30 queue_empty || bad "Postfix queue not empty: $($POSTQUEUE -p | tail -3)"
sleep 1
sql "SELECT message_id, state, translate(last_error, E'\\n\\r', '  ') FROM outbox ORDER BY id" >"$work/outbox.txt"
cut -d'|' -f1 "$work/outbox.txt" | xargs python3 "$here/workers_mail.py" count "$dc/mail" customer \
  >"$work/deliveries.txt"
python3 - "$work/outbox.txt" "$work/deliveries.txt" <<'EOF' >"$work/replies-check.txt"
import collections, sys
n = dict(line.split() for line in open(sys.argv[2]) if line.strip())
states, problems = collections.Counter(), []
for line in open(sys.argv[1]):
    mid, state, err = line.rstrip("\n").split("|", 2)
    states[state] += 1
    d = int(n.get(mid, 0))
    if d > 1:
        problems.append("%s delivered %d times (%s)" % (mid, d, state))
    if state == "sent" and d != 1:
        problems.append("%s sent but delivered %d times" % (mid, d))
    if state in ("unknown", "failed") and not err.strip():
        problems.append("%s %s without a reason" % (mid, state))
    if state in ("queued", "sending", "cancelled"):
        problems.append("%s left %s" % (mid, state))
print(" ".join("%s:%d" % kv for kv in sorted(states.items())))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
EOF
rc=$?
echo "replies after $kills kills: $(head -1 "$work/replies-check.txt"), delivered $(awk '$2 > 0' "$work/deliveries.txt" | wc -l)"
[ $rc = 0 ] && ok "every reply delivered at most once; sent = delivered once; unknown/failed with a reason" ||
  bad "replies: $(tail -n +2 "$work/replies-check.txt" | head -8)"
grep -h "event=outbox" "$work"/w*.log | grep -v "sent" | head -5 | sed 's/^/  outbox: /'

# =================================================================================================
# 5. /healthz, PostgreSQL restarted
# =================================================================================================
echo "--- 5. /healthz and a PostgreSQL restart"
mapfile -t live < <(live_labels)
wait_until 30 balanced $(for l in "${live[@]}"; do echo "${wpid[$l]}"; done) ||
  bad "not balanced before the restart: $(held)"
workers_json >"$work/workers5.json"
hz_ok=0
for l in "${live[@]}"; do
  curl -s --max-time 5 "http://127.0.0.1:${wport[$l]}/healthz" >"$work/healthz-$l.json"
  python3 - "$work/healthz-$l.json" "$work/workers5.json" "${wpid[$l]}" <<'EOF' && hz_ok=$((hz_ok + 1)) || bad "/healthz of $l: $(cat "$work/healthz-$l.json")"
import json, sys
h = json.load(open(sys.argv[1]))
w = [w for w in json.load(open(sys.argv[2])) if w.get("pid") == int(sys.argv[3])][0]
assert h["worker"] == w["worker"] and h["leases"] == len(w["accounts"]), (h, w)
assert h.get("status") == "ok", h
EOF
done
expect_eq "$hz_ok" "${#live[@]}" "/healthz names each worker and its leases (as workers --json does)"
opts=$(python3 - "$pgd/data/postmaster.opts" <<'EOF'
import shlex, sys
words = shlex.split(open(sys.argv[1]).read())[1:]
out = []
i = 0
while i < len(words):
    if words[i] == "-D":
        i += 2
        continue
    out.append(shlex.quote(words[i]))
    i += 1
print(" ".join(out))
EOF
)
pgctl() { (cd / && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$pgd/data" "$@"); }
t_down=$(now_ms)
echo "outage $t_down" >"$work/outage"
pgctl -m fast -w stop >/dev/null && ok "PostgreSQL stopped" || bad "pg_ctl stop"
sleep 4
l=${live[0]}
code=$(curl -s -o "$work/healthz-down.json" -w '%{http_code}' --max-time 5 "http://127.0.0.1:${wport[$l]}/healthz")
echo "/healthz with the database down: HTTP $code $(cat "$work/healthz-down.json")"
# 4 s is more than two renewal intervals (1.5 s): the worker has found the database gone.
[ "$code" = 503 ] && grep -q '"database":false' "$work/healthz-down.json" &&
  ok "/healthz answers 503 with database false while the database is down" ||
  bad "/healthz while the database is down: HTTP $code $(cat "$work/healthz-down.json")"
sleep 4
pgctl -l "$pgd/server.log" -w -t 60 -o "$opts" start >/dev/null && ok "PostgreSQL started again after $(($(now_ms) - t_down)) ms" ||
  bad "pg_ctl start: $(tail -3 "$pgd/server.log")"
echo "up $(now_ms)" >>"$work/outage"
for l in "${live[@]}"; do check "$l survived the database restart" alive "${wpid[$l]}"; done
# One message for every account: each must be synced again by whoever holds it now.
for u in $users; do gen lmtp "$LMTP_PORT" "$u" --count 1 --tag afterpg || bad "LMTP $u"; done
t0=$(now_ms)
stored_afterpg() { [ "$(sql "SELECT count(*) FROM messages WHERE message_id LIKE 'afterpg-%'" 2>/dev/null)" = 12 ]; }
wait_until 40 stored_afterpg && ok "mail delivered to each account after the restart stored ($(($(now_ms) - t0)) ms)" ||
  bad "mail after the restart not stored for: $(sql "SELECT string_agg(u, ' ') FROM unnest(string_to_array('$users', ' ')) u
        WHERE NOT EXISTS (SELECT 1 FROM messages WHERE message_id = 'afterpg-' || u || '-0@customer.example')")"
wait_until 30 balanced $(for l in "${live[@]}"; do echo "${wpid[$l]}"; done) &&
  ok "leases shared again after the restart" || bad "after the restart: $(held)"
hz_after() { curl -s --max-time 5 "http://127.0.0.1:${wport[${live[0]}]}/healthz" | grep -q '"status":"ok"'; }
wait_until 20 hz_after && ok "/healthz ok again" || bad "/healthz after the restart: $(curl -s --max-time 5 "http://127.0.0.1:${wport[${live[0]}]}/healthz")"
store_checks "after the database restart"

# =================================================================================================
# Over the whole run
# =================================================================================================
echo "--- the whole run"
# While the database is down no worker can learn that a lease expired, and after it is back one
# notices at its next renewal: a session it had started may then meet the new holder's, as with a
# SIGSTOPped worker (writes stay fenced: store_checks above found nothing stored twice). So the
# outage, and a lease time after it, count like a pause for the workers that lived through it.
t_up=$(awk '$1 == "up" {print $2}' "$work/outage")
outage_windows=()
for l in "${live[@]}"; do outage_windows+=(--paused "${wpid[$l]}" "$t_down" "$((t_up + LEASE * 1000))"); done
python3 "$here/workers_sessions.py" "$dc/dovecot.log" "$work/ss.samples" "$work/pids" \
  --paused "${wpid[w1]}" "$t_stop" "$((t_noticed + 3000))" "${outage_windows[@]}" >"$work/sessions.txt" &&
  ok "Dovecot: sessions of two workers overlap only while one was SIGSTOPped or the database was down ($(head -1 "$work/sessions.txt"))" ||
  bad "Dovecot sessions: $(cat "$work/sessions.txt")"
# A running worker renews every LEASE/4 s: its heartbeat (renewed with its leases) must never be
# as old as a lease, or it loses every account by itself. Not counted: the SIGSTOPped worker while
# stopped, killed workers after the kill, everyone while the database is down (and 5 s after).
python3 - "$work/heartbeats.samples" "$work/kills" "$work/outage" "$LEASE" "${wpid[w1]}" "$t_stop" "$t_noticed" <<'EOF' >"$work/heartbeats.txt" && ok "no running worker went a lease time without renewing ($(cat "$work/heartbeats.txt"))" || bad "a running worker stopped renewing its leases: $(cat "$work/heartbeats.txt")"
import collections, sys
samples, kills, outage, lease, paused, t_stop, t_cont = sys.argv[1:8]
killed = dict(map(int, l.split()) for l in open(kills) if l.strip())
o = dict(l.split() for l in open(outage) if l.strip())
down, up = int(o["outage"]), int(o["up"]) + 5000
worst, stalls = collections.defaultdict(int), []
for line in open(samples):
    parts = line.strip().split("|")
    if len(parts) != 3:
        continue
    t, pid, age = map(int, parts)
    start = t - age
    if pid in killed and t >= killed[pid]:
        continue
    if pid == int(paused) and t >= int(t_stop) and start <= int(t_cont) + 2000:
        continue
    if down <= t and start <= up:
        continue
    worst[pid] = max(worst[pid], age)
    if age >= int(lease) * 1000:
        stalls.append("pid %d: no renewal for %.1f s at %d" % (pid, age / 1000, t))
print("; ".join(stalls[:6]) if stalls else
      "worst gap %.1f s over %d workers" % (max(worst.values(), default=0) / 1000, len(worst)))
sys.exit(1 if stalls else 0)
EOF
sql "SELECT a.name, l.epoch FROM account_leases l JOIN accounts a ON a.id = l.account_id" >"$work/epochs.txt"
python3 - "$work/epochs.txt" "$work"/w*.log <<'EOF' >"$work/history.txt" && ok "lease history: every claim a new epoch, the database's epoch the last claimed ($(cat "$work/history.txt"))" || bad "lease history: $(cat "$work/history.txt")"
import collections, re, sys
db = dict(line.strip().split("|") for line in open(sys.argv[1]) if "|" in line)
claims = collections.defaultdict(list)
for path in sys.argv[2:]:
    for line in open(path, errors="replace"):
        m = re.search(r"account=(\S+) event=lease: claimed \(epoch (\d+)\)", line)
        if m:
            claims[m.group(1)].append((int(m.group(2)), path.rsplit("/", 1)[-1]))
problems = []
for acc, cs in claims.items():
    epochs = [e for e, _ in cs]
    dup = [e for e, n in collections.Counter(epochs).items() if n > 1]
    if dup:
        problems.append("%s: epoch %s claimed twice %s" % (acc, dup, cs))
    if str(max(epochs)) != db.get(acc):
        problems.append("%s: last claimed epoch %d, database %s" % (acc, max(epochs), db.get(acc)))
print("; ".join(problems) if problems else
      "%d claims of %d accounts" % (sum(len(c) for c in claims.values()), len(claims)))
sys.exit(1 if problems or len(claims) != 12 else 0)
EOF
waits=$(grep -c "still waiting for" "$pgd/server.log")
echo "PostgreSQL lock waits over 0.5 s: $waits; on the lease rows (account_leases): $(grep -A4 "still waiting for" "$pgd/server.log" | grep -c "account_leases")"
# SIGTERM: every worker releases its leases and exits 0; nothing is held afterwards.
mapfile -t live < <(live_labels)
for l in "${live[@]}"; do kill -TERM "${wpid[$l]}"; done
for l in "${live[@]}"; do
  wait_exit "${wpid[$l]}" 20 || { bad "$l did not exit on SIGTERM"; continue; }
  expect_eq "$exit_code" 0 "$l exits 0 on SIGTERM"
done
expect_eq "$(sql "SELECT count(*) FROM account_leases WHERE worker_id IS NOT NULL") $(sql "SELECT count(*) FROM workers")" \
  "0 0" "after SIGTERM no lease is held and no worker is registered"
leaked=0
for s in $(cat "$pgd/password") $(for u in $users; do echo "$u-pw"; done); do
  grep -qF -- "$s" "$work"/w*.log && leaked=$((leaked + 1))
done
expect_eq "$leaked" 0 "no password in the workers' logs"
finish
