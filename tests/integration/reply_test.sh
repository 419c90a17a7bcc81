#!/usr/bin/env bash
# End-to-end replies through a real Postfix and Dovecot (tests/integration/{postfix,dovecot}):
#   - a reply queued with crm-mailctl reply is sent by crm-maild and arrives in the customer's
#     mailbox with the right From/To/Subject/In-Reply-To/References/Message-ID, body, non-ASCII
#     name, subject and attachment name; the copy is in alice's Sent folder once; the thread
#     shows the reply once (after the Sent folder is synced too)
#   - the customer's answer with a changed subject and no References lands on the same deal
#     through the deal token in our Message-ID
#   - 5xx recipient -> failed with the server's text; 4xx -> queued again, never sent
#   - a recipient the server accepts and then cannot deliver to -> Postfix's bounce marks the
#     reply bounced (recipient, status, reason) and joins its conversation
#   - SIGKILL at each labelled step of sending: every reply ends sent exactly once or unknown,
#     never delivered twice (deliveries counted in the customer's mailbox)
#   - header/SMTP injection attempts are refused or neutralised
#   - a new mail from a deal (crm-mailctl send) with an attachment and the signature arrives whole,
#     and its Sent copy lands on its deal by the token in its own Message-ID; bad input is refused
#   - the daily follow-up reminder reaches the salesperson's mailbox once, listing a waiting
#     question, and is filed on no deal and not in the unsorted queue
#   reply_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# With CRM_TEST_BACKEND=postgresql the same suite runs on a throwaway PostgreSQL 15
# (tests/integration/postgres/pg.sh): each restarted daemon is a new worker that takes the account's
# lease over (lease_seconds = 5) and settles the replies the killed one left in "sending".
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run.
set -u
maild=$1
ctl=$2
root=$3
dcs=$root/tests/integration/dovecot
pfs=$root/tests/integration/postfix

for tool in dovecot doveadm postfix sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

work=$(mktemp -d /tmp/crm-replytest.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pf=$work/pf
pid=""
pass=0
failn=0
backend=${CRM_TEST_BACKEND:-sqlite}
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  "$pfs/stop.sh" "$pf" >/dev/null 2>&1
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  [ "$backend" = postgresql ] && bash "$root/tests/integration/postgres/pg.sh" stop "$work/pg" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_eq() { if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: got '$1', want '$2'"; fi; }
expect_grep() { if grep -qE -- "$1" "$2"; then ok "$3"; else bad "$3: /$1/ not in $(head -c 800 "$2")"; fi; }
finish() {
  if [ "$failn" -gt 0 ]; then
    for f in "$work"/*.log "$pf/postfix.log"; do
      [ -f "$f" ] && { echo "--- tail of $f"; tail -n 30 "$f"; }
    done
  fi
  echo "$pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit $?
}
now_ms() { date +%s%3N; }
wait_until() { local end=$(($(now_ms) + $1 * 1000)); shift
  while :; do "$@" && return 0; [ "$(now_ms)" -ge "$end" ] && return 1; sleep 0.2; done; }

envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc.err") || { bad "dovecot: $(cat "$work/dc.err")"; finish; }
# shellcheck disable=SC1090
. "$envfile"
pfenv=$("$pfs/start.sh" "$pf" "$dc" 2>"$work/pf.err") || { bad "postfix: $(cat "$work/pf.err")"; finish; }
# shellcheck disable=SC1090
. "$pfenv"

db=$work/crm.db
database_toml="path = \"$db\""
ctl_db=(--db "$db")
# q: one query, rows as lines (also a script, for the polls of bash -c below).
if [ "$backend" = postgresql ]; then
  bash "$root/tests/integration/postgres/pg.sh" start "$work/pg" >/dev/null || { bad "PostgreSQL did not start"; finish; }
  pg_url=$(cat "$work/pg/url")
  pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
  database_toml="url = \"postgresql://crm_test@127.0.0.1:$pg_port/crm_test\"
password_file = \"$work/pg/password\"
lease_seconds = 5"
  export CRM_MAIL_CONFIG=$work/crm.toml
  ctl_db=()
  printf '#!/bin/sh\nexec psql -qtAX -F "|" "%s" -c "$1"\n' "$pg_url" >"$work/q"
else
  printf '#!/bin/sh\nexec sqlite3 "%s" "$1"\n' "$db" >"$work/q"
fi
chmod +x "$work/q"
q() { "$work/q" "$1"; }
# Predicates re-evaluated on every poll (wait_until runs its arguments again each time).
q_is() { [ "$(q "$1")" = "$2" ]; }
q_ge() { [ "$(q "$1")" -ge "$2" ] 2>/dev/null; }
count_ge() { [ "$(customer_count)" -ge "$1" ]; }
sent_count_is() { [ "$($DOVEADM search -u alice mailbox Sent header message-id "$1" | wc -l)" = "$2" ]; }
printf 'alice-pw' >"$work/alice.pw"
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/crm.toml" <<TOML
[database]
$database_toml
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $http_port
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.com"
poll_interval = 10
folders = ["INBOX", "Sent"]
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "alice"
password_file = "$work/alice.pw"
[accounts.smtp]
host = "127.0.0.1"
port = $SMTPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "alice"
password_file = "$work/alice.pw"
TOML
"$ctl" "${ctl_db[@]}" db migrate >/dev/null
printf 'id,name,email,role\n1,Alice Müller,alice@example.com,salesperson\n' >"$work/u.csv"
printf 'id,name,domains\n10,Customer Inc,customer.example\n' >"$work/c.csv"
printf 'id,name,emails,company_id\n100,Chloé Customer,customer@customer.example,10\n' >"$work/p.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n500,Customer renewal,10,100,1,proposal,open,100,EUR\n' >"$work/d.csv"
for k in users:u companies:c contacts:p deals:d; do
  "$ctl" "${ctl_db[@]}" crm import "${k%%:*}" "$work/${k#*:}.csv" >/dev/null || bad "crm import ${k%%:*}"
done

# The customer's first mail in alice's INBOX. Mail addressed to customer@customer.example is
# delivered by Postfix to the Dovecot user "customer" (the domain is stripped).
cat >"$work/first.eml" <<'EML'
From: =?UTF-8?Q?Chlo=C3=A9_Customer?= <customer@customer.example>
To: Alice <alice@example.com>
Subject: =?UTF-8?Q?Renewal_question_=E2=80=93_pricing?=
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <first-1@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Could you send the renewal pricing?
EML
"$dcs/seed.sh" "$dc" alice "$work/first.eml" >/dev/null || bad "seed"

start_daemon() { CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/crm.toml" 2>>"$work/maild.log" & pid=$!; }
stop_daemon() { [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }; pid=""; }
start_daemon
wait_until 20 q_is "SELECT count(*) FROM messages WHERE message_id='first-1@customer.example'" 1 \
  && ok "first mail synced" || bad "first mail synced"
thread=$(q "SELECT thread_id FROM messages WHERE message_id='first-1@customer.example'")
expect_eq "$(q "SELECT deal_id FROM thread_deals WHERE thread_id=$thread")" 500 "first mail on deal 500"

customer_count() { $DOVEADM search -u customer mailbox INBOX all 2>/dev/null | wc -l; }
state_of() { q "SELECT state FROM outbox WHERE id=$1"; }

# --- 1. a reply with non-ASCII body, attachment name and a dot line ------------------------------
printf 'Hello Chloé,\n\nthe pricing is attached.\n.\nA line with a dot alone above.\n\nAlice\n' >"$work/body.txt"
printf 'sku,price\nA,10\n' >"$work/Preisübersicht.csv"
id=$("$ctl" "${ctl_db[@]}" reply "$thread" --body-file "$work/body.txt" --attach "$work/Preisübersicht.csv" 2>"$work/reply.err")
[ -n "$id" ] && ok "reply queued ($id)" || bad "reply queued: $(cat "$work/reply.err")"
wait_until 30 q_is "SELECT state FROM outbox WHERE id=$id" sent && ok "reply sent" || bad "reply sent: $(state_of "$id") $(q "SELECT last_error FROM outbox WHERE id=$id")"
wait_until 30 count_ge 1 && ok "reply delivered to the customer" || bad "reply delivered"
mid=$(q "SELECT message_id FROM outbox WHERE id=$id")
$DOVEADM fetch -u customer 'hdr' mailbox INBOX all >"$work/hdr.txt" 2>&1
$DOVEADM fetch -u customer 'body' mailbox INBOX all >"$work/body.out" 2>&1
expect_grep "^Message-I[dD]: <crm\.500\.[0-9a-f]+@example\.com>" "$work/hdr.txt" "our Message-ID carries deal 500"
expect_grep "^In-Reply-To: <first-1@customer.example>" "$work/hdr.txt" "In-Reply-To"
expect_grep "^References: <first-1@customer.example>" "$work/hdr.txt" "References"
expect_grep "^From: .*alice@example.com" "$work/hdr.txt" "From is alice"
expect_grep "^To: .*customer@customer.example" "$work/hdr.txt" "To is the customer"
python3 - "$work/hdr.txt" "$work/body.out" <<'PY' && ok "subject, name, body and attachment name survive" || bad "non-ASCII round trip"
import email.header, sys, re
hdr = open(sys.argv[1], encoding="utf-8", errors="replace").read()
def dec(v):
    return "".join(p.decode(c or "ascii") if isinstance(p, bytes) else p for p, c in email.header.decode_header(v))
subj = dec(re.search(r"^Subject: (.*(?:\n[ \t].*)*)", hdr, re.M).group(1).replace("\n", ""))
to = dec(re.search(r"^To: (.*)", hdr, re.M).group(1))
assert subj == "Re: Renewal question – pricing", subj
assert "Chloé Customer" in to, to
body = open(sys.argv[2], encoding="utf-8", errors="replace").read()
assert "=2E" in body or "\n.\n" not in body
assert "Preis" in body and ("bersicht.csv" in body), "attachment name"
PY
python3 - "$work" "$DOVEADM" <<'PY' && ok "delivered body decodes to what was written, dot line intact" || bad "body intact"
import email, subprocess, sys
raw = subprocess.run(sys.argv[2].split() + ["fetch", "-u", "customer", "text", "mailbox", "INBOX", "all"],
                     capture_output=True).stdout
msg = email.message_from_bytes(raw.split(b"\n", 1)[1] if raw.startswith(b"text:") else raw)
texts = [p.get_payload(decode=True).decode("utf-8") for p in msg.walk() if p.get_content_type() == "text/plain"]
assert any("\n.\nA line with a dot alone above." in t.replace("\r\n", "\n") for t in texts), texts
names = [p.get_filename() for p in msg.walk() if p.get_filename()]
assert "Preisübersicht.csv" in names, names
PY
wait_until 30 sent_count_is "$mid" 1 \
  && ok "copy in Sent once" || bad "copy in Sent: $($DOVEADM search -u alice mailbox Sent all | wc -l)"
wait_until 30 q_is "SELECT count(*) FROM locations l JOIN messages m ON m.id=l.message_id WHERE m.message_id='$mid' AND l.mailbox_id IS NOT NULL" 1 \
  && ok "Sent copy synced onto the same message" || bad "Sent copy location"
expect_eq "$(q "SELECT count(*) FROM messages WHERE message_id='$mid'")" 1 "the thread shows the reply once"
expect_eq "$(q "SELECT thread_id FROM messages WHERE message_id='$mid'")" "$thread" "reply in the same thread"

# --- 2. the customer's answer: new subject, no References, only In-Reply-To to our id ----------
cat >"$work/answer.eml" <<EML
From: Chloé Customer <customer@customer.example>
To: Alice <alice@example.com>
Subject: Contract signed
Date: Tue, 03 Nov 2026 09:00:00 +0000
Message-ID: <answer-1@customer.example>
In-Reply-To: <$mid>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Signed, see you soon.
EML
# A different thread first: make the deal link depend on the token, not on the old thread.
q "DELETE FROM thread_deals" >/dev/null
"$dcs/seed.sh" "$dc" alice "$work/answer.eml" >/dev/null
wait_until 20 q_is "SELECT count(*) FROM messages WHERE message_id='answer-1@customer.example'" 1 \
  && ok "answer synced" || bad "answer synced"
athread=$(q "SELECT thread_id FROM messages WHERE message_id='answer-1@customer.example'")
expect_eq "$(q "SELECT deal_id FROM thread_deals WHERE thread_id=$athread")" 500 "answer on the deal through the token"

# --- 3. 5xx and 4xx -----------------------------------------------------------------------------
before=$(customer_count)
bad550=$("$ctl" "${ctl_db[@]}" reply "$thread" --to reject550@customer.example --body-file "$work/body.txt" 2>/dev/null)
wait_until 30 q_is "SELECT state FROM outbox WHERE id=$bad550" failed && ok "5xx recipient: failed" || bad "5xx: $(state_of "$bad550")"
expect_grep "550" <(q "SELECT last_error FROM outbox WHERE id=$bad550") "5xx reason kept"
tmp450=$("$ctl" "${ctl_db[@]}" reply "$thread" --to tempfail@customer.example --body-file "$work/body.txt" 2>/dev/null)
wait_until 30 q_ge "SELECT attempts FROM outbox WHERE id=$tmp450" 2 && ok "4xx: retried" || bad "4xx retried: $(q "SELECT state, attempts, last_error FROM outbox WHERE id=$tmp450")"
# Between attempts it is queued again (never sent, never failed); the worker may be in an attempt
# ('sending') at any given moment, so look until it is seen queued, and cancel it then (cancel
# refuses an entry being sent, so try again if it went back to 'sending' meanwhile).
wait_until 30 q_is "SELECT state FROM outbox WHERE id=$tmp450 AND attempts >= 2" queued \
  && ok "4xx: queued again, not sent" || bad "4xx: $(q "SELECT state, attempts FROM outbox WHERE id=$tmp450")"
wait_until 10 "$ctl" "${ctl_db[@]}" outbox cancel "$tmp450" >/dev/null 2>&1 && ok "cancel the 4xx reply" || bad "cancel"
expect_eq "$(state_of "$tmp450")" cancelled "4xx reply cancelled"
expect_eq "$(customer_count)" "$before" "nothing delivered for 5xx/4xx"

# --- 4. injection attempts ----------------------------------------------------------------------
"$ctl" "${ctl_db[@]}" reply "$thread" --cc $'x@y.example>\r\nRCPT TO:<evil@evil.example' --body-file "$work/body.txt" >/dev/null 2>"$work/inj.err"
[ $? -ne 0 ] && ok "CR/LF in an address refused" || bad "address injection accepted"
"$ctl" "${ctl_db[@]}" reply "$thread" --to 'evil@evil.example> RCPT TO:<x@y' --body-file "$work/body.txt" >/dev/null 2>&1
[ $? -ne 0 ] && ok "angle brackets in an address refused" || bad "bracket injection accepted"

# --- /metrics and /healthz of this daemon ------------------------------------------------------
curl -s "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt"
expect_grep '^crm_send_results_total\{result="sent"\} [1-9]' "$work/metrics.txt" "/metrics counts sent replies"
expect_grep '^crm_send_results_total\{result="failed"\} [1-9]' "$work/metrics.txt" "/metrics counts failed replies"
expect_grep '^crm_outbox_replies\{state="sent"\} [1-9]' "$work/metrics.txt" "/metrics outbox by state"
expect_grep '^crm_account_state\{account="alice",state="idle"\} 1' "$work/metrics.txt" "/metrics account state"
expect_grep '^crm_messages_ingested_total [1-9]' "$work/metrics.txt" "/metrics messages ingested"
if [ "$backend" = postgresql ]; then
  expect_grep '^\{"status":"ok","database":true,"worker":[0-9]+,"leases":1\}$' <(curl -s "http://127.0.0.1:$http_port/healthz") "/healthz names the worker and its lease"
else
  expect_eq "$(curl -s "http://127.0.0.1:$http_port/healthz")" '{"status":"ok"}' "/healthz"
fi

# --- 5. SIGKILL at each step: never delivered twice, and sent again by itself whenever nothing
# can have been delivered (killed before the end of DATA was handed over). label:state:deliveries
for step in before-smtp:sent:1 before-end-of-data:sent:1 after-end-of-data-mark:unknown:0 \
            after-smtp:unknown:1 after-record:sent:1; do
  IFS=: read -r label want_state want_count <<<"$step"
  stop_daemon
  before=$(customer_count)
  rid=$("$ctl" "${ctl_db[@]}" reply "$thread" --body-file "$work/body.txt" 2>"$work/crash-reply.err")
  if [ -z "$rid" ]; then
    bad "$label: reply not queued: $(cat "$work/crash-reply.err")"
    continue
  fi
  CRM_CRASH_AT=$label CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/crm.toml" 2>>"$work/maild.log" & pid=$!
  # The crash point comes within seconds; a daemon that never reaches it is stopped (exit 0, so
  # the check below fails) instead of hanging the test.
  ( sleep 60; kill -TERM "$pid" 2>/dev/null ) & watchdog=$!
  wait "$pid"; rc=$?; pid=""
  kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null
  expect_eq "$rc" 137 "$label: daemon killed"
  start_daemon
  wait_until 30 bash -c "s=\$('$work/q' \"SELECT state FROM outbox WHERE id=$rid\"); [ \"\$s\" = sent ] || [ \"\$s\" = unknown ]" \
    && ok "$label: reply ends sent or unknown ($(state_of "$rid"))" || bad "$label: state $(state_of "$rid")"
  expect_eq "$(state_of "$rid")" "$want_state" "$label: state after the restart"
  sleep 2
  delivered=$(( $(customer_count) - before ))
  expect_eq "$delivered" "$want_count" "$label: deliveries"
done

# --- 6. an unknown recipient behind the server: Postfix accepts gone@, the Dovecot refuses it over
# LMTP, and Postfix's own bounce (an RFC 3464 report) comes back to alice's INBOX: crm-maild
# syncs it, marks the reply bounced with the recipient and the reason, and files the bounce in the
# reply's conversation (on the deal of our Message-ID), not in the unsorted queue. Last: the reply
# to gone@ becomes the thread's newest message, which the replies above would answer.
gone=$("$ctl" "${ctl_db[@]}" reply "$thread" --to gone@customer.example --body-file "$work/body.txt" 2>/dev/null)
wait_until 60 q_is "SELECT state FROM outbox WHERE id=$gone" bounced \
  && ok "Postfix's bounce marks the reply bounced" \
  || bad "bounced: $(state_of "$gone") $(q "SELECT last_error FROM outbox WHERE id=$gone") $(q "SELECT count(*) FROM messages WHERE auto_kind <> ''")"
expect_eq "$(q "SELECT recipient || ' ' || status FROM outbox_reports WHERE outbox_id=$gone AND action='failed'")" \
  "gone@customer.example 5.1.1" "the bounce names the recipient and its status"
expect_grep "^bounced: gone@customer.example 5.1.1" <(q "SELECT last_error FROM outbox WHERE id=$gone") "the reason is the server's"
bid=$(q "SELECT report_id FROM outbox_reports WHERE outbox_id=$gone")
expect_eq "$(q "SELECT auto_kind FROM messages WHERE id=$bid")" bounce "the bounce is stored as one"
bthread=$(q "SELECT thread_id FROM messages WHERE id=$bid")
expect_eq "$bthread" "$thread" "the bounce joins the reply's conversation"
expect_eq "$(q "SELECT count(*) FROM unsorted WHERE thread_id=$bthread")" 0 "the bounce is not in the unsorted queue"
expect_eq "$(q "SELECT deal_id FROM thread_deals WHERE thread_id=$bthread")" 500 "the bounce is on the reply's deal"
"$ctl" "${ctl_db[@]}" outbox list --state bounced >"$work/bounced.txt" 2>&1
expect_grep "^ *$gone +bounced .*gone@customer.example" "$work/bounced.txt" "outbox list --state bounced shows it"
expect_grep "^ +failed gone@customer.example 5.1.1: " "$work/bounced.txt" "outbox list shows the report"

# --- 7. a new mail from a deal (issue 20): crm-mailctl send, with an attachment and the owner's
# signature, through Postfix into the customer's Dovecot mailbox. The customer is now on two open
# deals, so only the deal in our Message-ID can place the copy filed in Sent: it must land on 501.
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency
500,Customer renewal,10,100,1,proposal,open,100,EUR
501,Customer expansion,10,100,1,lead,open,900,EUR
' >"$work/d2.csv"
"$ctl" "${ctl_db[@]}" crm import deals "$work/d2.csv" >/dev/null || bad "crm import deals 501"
q "INSERT INTO user_settings (user_id, signature, updated_at) VALUES (1, 'Alice Müller
Sales, Example Ltd', 0)" >/dev/null
printf 'Hello Chloé,\n\nthe draft contract for the expansion is attached.\n' >"$work/new.txt"
head -c 300000 /dev/urandom >"$work/Contract draft.pdf"
before=$(customer_count)
new=$("$ctl" "${ctl_db[@]}" send --deal 501 --account alice --to customer@customer.example \
  --subject "Expansion – contract draft" --body-file "$work/new.txt" --attach "$work/Contract draft.pdf" \
  --signature 2>"$work/send.err")
[ -n "$new" ] && ok "new mail queued ($new)" || bad "new mail queued: $(cat "$work/send.err")"
wait_until 30 q_is "SELECT state FROM outbox WHERE id=$new" sent && ok "new mail sent" \
  || bad "new mail sent: $(state_of "$new") $(q "SELECT last_error FROM outbox WHERE id=$new")"
wait_until 30 count_ge $((before + 1)) && ok "new mail delivered to the customer" || bad "new mail delivered"
nmid=$(q "SELECT message_id FROM outbox WHERE id=$new")
expect_grep "^crm\.501\.[0-9a-f]+@example\.com$" <(echo "$nmid") "its Message-ID names deal 501"
uid=$($DOVEADM search -u customer mailbox INBOX header message-id "$nmid" 2>/dev/null | awk '{print $2}' | head -1)
$DOVEADM fetch -u customer 'text' mailbox INBOX uid "$uid" >"$work/new.out" 2>/dev/null
python3 - "$work/new.out" "$work/Contract draft.pdf" <<'PY' && ok "the customer gets subject, text, signature and the attachment byte for byte" || bad "new mail content: $(head -c 600 "$work/new.out")"
import email, email.policy, sys
raw = open(sys.argv[1], "rb").read()
raw = raw.split(b"\n", 1)[1] if raw.startswith(b"text:") else raw
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert str(msg["Subject"]) == "Expansion – contract draft", msg["Subject"]
assert msg["In-Reply-To"] is None and msg["References"] is None, "a new conversation"
text = msg.get_body(("plain",)).get_content()
assert "the draft contract for the expansion is attached." in text, text
assert "\n-- \nAlice Müller\nSales, Example Ltd" in text.replace("\r\n", "\n"), text
atts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
assert atts.get("Contract draft.pdf") == open(sys.argv[2], "rb").read(), list(atts)
PY
wait_until 30 sent_count_is "$nmid" 1 && ok "new mail's copy in Sent once" || bad "new mail's copy in Sent"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='$nmid'" 1 \
  && ok "the Sent copy is synced" || bad "the Sent copy is synced"
nthread=$(q "SELECT thread_id FROM messages WHERE message_id='$nmid'")
expect_eq "$(q "SELECT deal_id FROM thread_deals WHERE thread_id=$nthread")" 501 "the copy is on deal 501, by the token in its own Message-ID"
# Refused before anything is queued: a bad address, a subject with a line break, a file too large.
n0=$(q "SELECT count(*) FROM outbox")
"$ctl" "${ctl_db[@]}" send --deal 501 --account alice --to 'customer@customer.example>, x@evil.example' \
  --subject x --body-file "$work/new.txt" 2>"$work/send-bad.err" && bad "bad address accepted" \
  || expect_grep "crm-mailctl send: .*customer@customer.example>, x@evil.example" "$work/send-bad.err" "a bad address is named"
"$ctl" "${ctl_db[@]}" send --deal 501 --account alice --to customer@customer.example \
  --subject "$(printf 'x\r\nBcc: x@evil.example')" --body-file "$work/new.txt" 2>"$work/send-bad.err" \
  && bad "subject with CR LF accepted" || expect_grep "subject: contains CR, LF or NUL|contains CR, LF or NUL" "$work/send-bad.err" "a subject with CR LF is refused"
head -c $((11 * 1024 * 1024)) /dev/zero >"$work/huge.bin"
"$ctl" "${ctl_db[@]}" send --deal 501 --account alice --to customer@customer.example \
  --subject big --body-file "$work/new.txt" --attach "$work/huge.bin" 2>"$work/send-bad.err" \
  && bad "an 11 MiB file accepted" || expect_grep "attachment 'huge.bin' is .*the most one file may have is 10 MiB" "$work/send-bad.err" "an oversized file is refused with the limit"
expect_eq "$(q "SELECT count(*) FROM outbox")" "$n0" "nothing queued by the refused ones"

# --- 8. the daily follow-up reminder (issue 20): a customer's question two days old waits for our
# answer; with [followups] daily_reminder_hour on, crm-maild sends alice her list through her own
# account to her own mailbox, once a day however often it starts; its copies are stored on no
# deal and not in the unsorted queue.
# Dan (a partner, on deal 500 only) asked two days ago.
printf 'id,name,emails,company_id\n101,Dan Partner,dan@partner.example,\n' >"$work/p2.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n500,Customer renewal,10,100 101,1,proposal,open,100,EUR\n' >"$work/d3.csv"
"$ctl" "${ctl_db[@]}" crm import contacts "$work/p2.csv" >/dev/null || bad "crm import contacts 101"
"$ctl" "${ctl_db[@]}" crm import deals "$work/d3.csv" >/dev/null || bad "crm import deals 500 with 101"
cat >"$work/due.eml" <<EML
From: Dan Partner <dan@partner.example>
To: Alice <alice@example.com>
Subject: Invoice question waiting for an answer
Date: $(date -u -R -d '2 days ago')
Message-ID: <due-1@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Which address should the invoice go to?
EML
"$dcs/seed.sh" "$dc" alice "$work/due.eml" >/dev/null
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='due-1@customer.example'" 1 \
  && ok "the waiting question is synced" || bad "the waiting question is synced"
expect_eq "$(q "SELECT td.deal_id FROM messages m JOIN thread_deals td ON td.thread_id = m.thread_id WHERE m.message_id='due-1@customer.example'")" 500 "the waiting question is on deal 500"
stop_daemon
printf '[followups]\ndaily_reminder_hour = 0\ndaily_reminder_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n' >"$work/reminder.toml"
python3 - "$work/crm.toml" "$work/reminder.toml" <<'PY'
import sys
cfg, extra = open(sys.argv[1]).read(), open(sys.argv[2]).read()
i = cfg.index("[[accounts]]")
open(sys.argv[1], "w").write(cfg[:i] + extra + cfg[i:])
PY
start_daemon
reminder_sent() { q_is "SELECT count(*) FROM outbox o JOIN followup_reminders r ON r.outbox_id = o.id WHERE r.user_id = 1 AND o.state = 'sent'" 1; }
wait_until 60 reminder_sent && ok "the daily reminder is sent" \
  || bad "daily reminder: $(q "SELECT state || ' ' || last_error FROM outbox WHERE message_id LIKE 'crm-reminder.%'") $(grep -i reminder "$work/maild.log" | tail -3)"
rmid=$(q "SELECT message_id FROM followup_reminders WHERE user_id = 1")
$DOVEADM fetch -u alice 'text' mailbox INBOX header message-id "$rmid" 2>/dev/null | python3 -c '
import email, email.policy, sys
raw = sys.stdin.buffer.read()
raw = raw.split(b"\n", 1)[1] if raw.startswith(b"text:") else raw
m = email.message_from_bytes(raw, policy=email.policy.default)
print("Subject:", m["Subject"]); print("To:", m["To"])
print(m.get_body(("plain",)).get_content())' >"$work/reminder.out" 2>&1
expect_grep "^To: .*alice@example.com" "$work/reminder.out" "the reminder goes to alice's own address"
expect_grep "Invoice question waiting for an answer \(deal: Customer renewal\), waiting (2 days|4[0-9] hours)" "$work/reminder.out" "the reminder lists the waiting question"
expect_grep "^Needs our answer:" "$work/reminder.out" "under 'Needs our answer'"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='$rmid'" 1 && ok "the reminder's copy is stored" || bad "reminder copy stored"
rthread=$(q "SELECT thread_id FROM messages WHERE message_id='$rmid'")
expect_eq "$(q "SELECT count(*) FROM unsorted WHERE thread_id=$rthread")/$(q "SELECT count(*) FROM thread_deals WHERE thread_id=$rthread")" "0/0" "the reminder is on no deal and not in the unsorted queue"
stop_daemon
start_daemon
sleep 5
expect_eq "$(q "SELECT count(*) FROM outbox WHERE message_id LIKE 'crm-reminder.%'")" 1 "one reminder a day, however often the daemon starts"
stop_daemon
for s in alice-pw; do
  if grep -q -- "$s" "$work"/*.log; then bad "secret in a log"; else ok "no secret in logs"; fi
done
finish
