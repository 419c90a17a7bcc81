#!/usr/bin/env bash
# The CRM application writes to the shared PostgreSQL database over SQL while two crm-maild
# workers run (issue 17, "The outside CRM writes too"):
#   - a new company, contact and deal inserted by the CRM are used for the next mail from that
#     contact, without a restart (the mail lands on the new deal);
#   - a manual link the CRM writes (thread_deals.manual = 1, the thread taken out of the unsorted
#     queue) is kept when the thread's next message arrives;
#   - the CRM's statements are never blocked for long by a sync: while a worker stores a
#     2,000-message initial sync, CRM inserts and updates run with lock_timeout = 2 s and each
#     takes well under it (the slowest is printed).
#   crm_writes_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exit 1 on failure, 77 when it cannot run.
set -u
maild=$1
ctl=$2
root=$3
dcs=$root/tests/integration/dovecot
# shellcheck source=../lib.sh
. "$root/tests/integration/lib.sh"
need_root_and dovecot doveadm psql python3

work=$(mktemp -d /tmp/crm-crmwrites.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  bash "$root/tests/integration/postgres/pg.sh" stop "$work/pg" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc.err") || { bad "dovecot: $(cat "$work/dc.err")"; finish; }
# shellcheck disable=SC1090
. "$envfile"
bash "$root/tests/integration/postgres/pg.sh" start "$work/pg" >/dev/null || { bad "PostgreSQL did not start"; finish; }
pg_url=$(cat "$work/pg/url")
pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
q() { psql -qtAX -v ON_ERROR_STOP=1 "$pg_url" -c "$1"; }
q_is() { [ "$(q "$1" 2>/dev/null)" = "$2" ]; }

printf 'alice-pw' >"$work/alice.pw"
for i in 1 2; do
  cat >"$work/w$i.toml" <<TOML
[database]
url = "postgresql://crm_test@127.0.0.1:$pg_port/crm_test"
password_file = "$work/pg/password"
lease_seconds = 6
[daemon]
log_level = "debug"
[http]
port = $(free_port)
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.com"
poll_interval = 10
[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "alice"
password_file = "$work/alice.pw"
TOML
done
export CRM_MAIL_CONFIG=$work/w1.toml
"$ctl" db migrate >/dev/null || bad "db migrate"
printf 'id,name,email,role\n1,Alice,alice@example.com,salesperson\n' >"$work/u.csv"
"$ctl" crm import users "$work/u.csv" >/dev/null || bad "crm import users"
for i in 1 2; do
  CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/w$i.toml" 2>"$work/w$i.log" &
  pids+=($!)
done
wait_until 30 q_is "SELECT count(*) FROM account_leases l JOIN accounts a ON a.id = l.account_id WHERE a.name = 'alice' AND l.expires_at > now()" 1 \
  && ok "a worker holds alice" || bad "no worker holds alice"

mail() { # file message-id from subject [in-reply-to]
  {
    printf 'From: %s\nTo: Alice <alice@example.com>\nSubject: %s\n' "$3" "$4"
    printf 'Date: Tue, 01 Dec 2026 10:00:00 +0000\nMessage-ID: <%s>\n' "$2"
    [ -n "${5:-}" ] && printf 'In-Reply-To: <%s>\nReferences: <%s>\n' "$5" "$5"
    printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello.\n'
  } >"$1"
}

# --- 1. a contact and a deal written by the CRM, used without a restart ----------------------
now=$(date +%s)
q "BEGIN;
   INSERT INTO companies (id, name, created_at, updated_at) VALUES (20, 'Newco', $now, $now);
   INSERT INTO company_domains (domain, company_id) VALUES ('newco.example', 20);
   INSERT INTO contacts (id, name, company_id, created_at, updated_at) VALUES (200, 'Nina', 20, $now, $now);
   INSERT INTO contact_addresses (address, contact_id, written) VALUES ('nina@newco.example', 200, 'nina@newco.example');
   INSERT INTO deals (id, name, company_id, owner_id, stage, status, created_at, updated_at)
     VALUES (600, 'Newco pilot', 20, 1, 'proposal', 'open', $now, $now);
   INSERT INTO deal_contacts (deal_id, contact_id) VALUES (600, 200);
   COMMIT;" >/dev/null && ok "the CRM wrote a company, contact and deal" || bad "CRM inserts"
mail "$work/nina.eml" nina-1@newco.example 'Nina <nina@newco.example>' 'Pilot questions'
"$dcs/seed.sh" "$dc" alice "$work/nina.eml" >/dev/null
wait_until 30 q_is "SELECT td.deal_id FROM messages m JOIN thread_deals td ON td.thread_id = m.thread_id WHERE m.message_id = 'nina-1@newco.example'" 600 \
  && ok "mail from the new contact lands on the new deal without a restart" \
  || bad "new contact's mail: $(q "SELECT m.thread_id, u.reason FROM messages m LEFT JOIN unsorted u ON u.thread_id = m.thread_id WHERE m.message_id = 'nina-1@newco.example'")"

# --- 2. a manual link written by the CRM is kept ------------------------------------------------
mail "$work/stranger.eml" stranger-1@elsewhere.example 'Sam <sam@elsewhere.example>' 'Hello there'
"$dcs/seed.sh" "$dc" alice "$work/stranger.eml" >/dev/null
wait_until 30 q_is "SELECT count(*) FROM messages m JOIN unsorted u ON u.thread_id = m.thread_id WHERE m.message_id = 'stranger-1@elsewhere.example'" 1 \
  && ok "an unknown sender's mail waits in the unsorted queue" || bad "stranger's mail not unsorted"
sthread=$(q "SELECT thread_id FROM messages WHERE message_id = 'stranger-1@elsewhere.example'")
q "BEGIN;
   DELETE FROM unsorted WHERE thread_id = $sthread;
   INSERT INTO thread_deals (thread_id, deal_id, manual, reason, linked_by, linked_at)
     VALUES ($sthread, 600, 1, 'linked in the CRM', 1, $now);
   COMMIT;" >/dev/null && ok "the CRM linked the thread by hand" || bad "CRM manual link"
mail "$work/stranger2.eml" stranger-2@elsewhere.example 'Sam <sam@elsewhere.example>' 'Re: Hello there' stranger-1@elsewhere.example
"$dcs/seed.sh" "$dc" alice "$work/stranger2.eml" >/dev/null
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id = 'stranger-2@elsewhere.example'" 1 \
  && ok "the reply synced" || bad "reply not synced"
expect_eq "$(q "SELECT m.thread_id = $sthread FROM messages m WHERE m.message_id = 'stranger-2@elsewhere.example'")" t "the reply joins the linked thread"
expect_eq "$(q "SELECT deal_id || ' ' || manual FROM thread_deals WHERE thread_id = $sthread")" "600 1" "the manual link is kept"
expect_eq "$(q "SELECT count(*) FROM unsorted WHERE thread_id = $sthread")" 0 "the thread stays out of the unsorted queue"
expect_eq "$(q "SELECT threads || ' ' || messages FROM deal_stats WHERE deal_id = 600")" "2 3" "the deal's counters include both threads"

# --- 3. the CRM is not blocked for long while a sync stores a large batch -----------------------
python3 "$root/bench/fill_maildir.py" "$dc/mail/alice" --count 2000 >/dev/null
chown -R "$MAIL_USER" "$dc/mail/alice"
slowest=0
for i in $(seq 1 20); do
  t0=$(now_ms)
  q "SET lock_timeout = '2s';
     BEGIN;
     INSERT INTO contacts (name, company_id, created_at, updated_at) VALUES ('Busy $i', 20, $now, $now);
     UPDATE deals SET stage = 'negotiation $i', updated_at = $now WHERE id = 600;
     INSERT INTO thread_deals (thread_id, deal_id, manual, reason, linked_at)
       VALUES ($sthread, 600, 1, 'linked in the CRM', $now)
       ON CONFLICT (thread_id) DO UPDATE SET reason = 'relinked $i';
     COMMIT;" >/dev/null 2>"$work/crm-write.err" || bad "CRM write $i failed: $(cat "$work/crm-write.err")"
  t=$(($(now_ms) - t0))
  [ "$t" -gt "$slowest" ] && slowest=$t
  sleep 0.3
done
stored=$(q "SELECT count(*) FROM locations")
echo "slowest CRM transaction while the worker synced: $slowest ms ($stored locations stored by then)"
[ "$slowest" -lt 2000 ] && ok "CRM writes during a sync finish in under 2 s (slowest $slowest ms)" \
  || bad "a CRM write took $slowest ms"
wait_until 90 q_is "SELECT count(*) FROM locations" 2003 && ok "the 2,000-message sync completed" \
  || bad "sync incomplete: $(q "SELECT count(*) FROM locations") locations"
expect_eq "$(q "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY message_id, content_hash HAVING count(*) > 1) AS d")" 0 "no message stored twice"
finish
