#!/usr/bin/env bash
# A Gmail account against the Gmail emulator (tests/integration/gmail_imap.py, IMAP and SMTP,
# written from Google's documentation; issue 18):
#   - X-GM-EXT-1 is detected: the X-GM-MSGID, X-GM-THRID and X-GM-LABELS items are fetched;
#   - one message in two label folders (INBOX and [Gmail]/All Mail) is stored once, with a
#     location in each carrying the same X-GM-MSGID, and downloaded once (the size FETCH
#     asks for X-GM-MSGID; a copy of a stored message is only linked);
#   - a reply that lost its headers, in the same Gmail conversation (X-GM-THRID), joins its thread;
#   - a reply sent through Gmail's SMTP is filed in Sent by Gmail itself: crm-maild does not
#     APPEND a second copy (auto-detected, no `gmail =` in the config), and the copy Gmail filed
#     is synced into the same message (one message with that Message-ID);
#   - with `gmail = false` the extensions are not used (no X-GM-* items asked).
#   gmail_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run.
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration
. "$here/lib.sh"
for tool in python3 sqlite3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
start_work gmail

emu=$work/gmail
mkdir -p "$emu/seed"
cat >"$emu/seed/1.eml" <<'EML'
X-Emu-Labels: \Inbox Deals/Acme
X-Emu-Thrid: 1700000000000000001
From: Chloe Customer <customer@customer.example>
To: alice@example.com
Subject: Proposal for the fleet
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <p1@customer.example>

Please send the proposal.
EML
cat >"$emu/seed/2.eml" <<'EML'
X-Emu-Labels: \Inbox
X-Emu-Thrid: 1700000000000000001
From: Chloe Customer <customer@customer.example>
To: alice@example.com
Subject: one more thing
Date: Mon, 02 Nov 2026 10:00:00 +0000
Message-ID: <p2@customer.example>

(a reply whose client dropped References and In-Reply-To; Gmail still threads it)
EML
cat >"$emu/seed/3.eml" <<'EML'
X-Emu-Labels: \Inbox
From: Someone Else <someone@else.example>
To: alice@example.com
Subject: Unrelated
Date: Mon, 02 Nov 2026 11:00:00 +0000
Message-ID: <u1@else.example>

Hello.
EML
python3 "$here/gmail_imap.py" "$emu" --password alice-pw >"$work/gmail.log" 2>&1 &
pids+=($!)
ports_ready() { [ -s "$emu/imap.port" ] && [ -s "$emu/smtp.port" ]; }
wait_until 10 ports_ready || { bad "the emulator did not start: $(cat "$work/gmail.log")"; finish; }
imap_port=$(cat "$emu/imap.port")
smtp_port=$(cat "$emu/smtp.port")
printf 'alice-pw\n' >"$work/alice.pw"
chmod 0600 "$work/alice.pw"
db=$work/crm.db
q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$1"; }
q_is() { [ "$(q "$1")" = "$2" ]; }
config() { # gmail-line
  cat <<TOML
[database]
path = "$db"
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $(free_port)
[[accounts]]
name = "gm"
owner_id = 1
address = "alice@example.com"
poll_interval = 10
folders = ["INBOX", "[Gmail]/All Mail"]
$1
[[accounts.rules]]
label = "Deals/Acme"
deal = 1001
[accounts.imap]
host = "127.0.0.1"
port = $imap_port
tls = "none"
allow_insecure = true
username = "alice@example.com"
password_file = "$work/alice.pw"
[accounts.smtp]
host = "127.0.0.1"
port = $smtp_port
tls = "none"
allow_insecure = true
TOML
}
config "" >"$work/crm.toml"
export CRM_MAIL_CONFIG=$work/crm.toml
"$ctl" db migrate >/dev/null || bad "db migrate"
printf 'id,name,email,role\n1,Alice,alice@example.com,salesperson\n' >"$work/u.csv"
printf 'id,name,domains\n10,Customer Inc,customer.example\n' >"$work/c.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n1001,Acme fleet,10,,1,proposal,open,100,EUR\n1002,Acme service,10,,1,proposal,open,50,EUR\n' >"$work/d.csv"
crm() { for k in users:u companies:c deals:d; do "$ctl" crm import "${k%%:*}" "$work/${k#*:}.csv" >/dev/null || bad "crm import ${k%%:*}"; done; }
crm

start() { CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/crm.toml" 2>>"$work/maild.log" & pid=$!; pids+=("$pid"); }
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
start
wait_until 30 q_is "SELECT count(*) FROM locations" 6 \
  && ok "three messages in two label folders: six locations" \
  || bad "locations: $(q "SELECT count(*) FROM locations") $(q "SELECT name, state, last_error FROM accounts")"
expect_eq "$(q "SELECT count(*) FROM messages")" 3 "each message stored once (X-GM-MSGID copies deduplicated)"
expect_eq "$(q "SELECT count(DISTINCT gm_msgid) FROM locations WHERE gm_msgid IS NOT NULL")" 3 \
  "every location carries its message's X-GM-MSGID, the same in both folders"
expect_eq "$(q "SELECT count(DISTINCT thread_id) FROM messages WHERE message_id IN ('p1@customer.example', 'p2@customer.example')")" 1 \
  "a reply without References joins its Gmail conversation (X-GM-THRID)"
expect_eq "$(sort "$emu/bodies" | uniq -d | wc -l) $(wc -l <"$emu/bodies")" "0 3" \
  "each message downloaded once: its copy in the other folder is linked by X-GM-MSGID"
grep -q "already stored from another label" "$work/maild.log" \
  && ok "the linked copies are logged" || bad "no log line for the linked copies"
grep -q "X-GM-MSGID X-GM-THRID X-GM-LABELS\|X-GM-THRID" "$work/gmail.log" && ok "the X-GM items were asked for" || bad "no X-GM items in the FETCH commands"
expect_eq "$(q "SELECT DISTINCT l.labels FROM locations l JOIN messages m ON m.id = l.message_id WHERE m.message_id = 'p1@customer.example'")" \
  '["Deals/Acme","\\Inbox"]' "X-GM-LABELS stored with each location (the same in both folders)"

thread=$(q "SELECT thread_id FROM messages WHERE message_id='p1@customer.example'")
# Two open deals of the same company: only the label decides, through the account's rule.
expect_eq "$(q "SELECT deal_id || ' ' || reason FROM thread_deals WHERE thread_id = $thread")" \
  '1001 Gmail label "Deals/Acme" (account rule: deal 1001)' "the label rule files the conversation on its deal"
expect_eq "$(q "SELECT count(*) FROM thread_deals t JOIN messages m ON m.thread_id = t.thread_id WHERE m.message_id = 'u1@else.example'")" 0 \
  "mail without the label is not filed by the rule"
printf 'Here is the proposal.\n' >"$work/body.txt"
id=$("$ctl" reply "$thread" --body-file "$work/body.txt" 2>"$work/reply.err")
[ -n "$id" ] && ok "reply queued" || bad "reply queued: $(cat "$work/reply.err")"
wait_until 30 q_is "SELECT state FROM outbox WHERE id=${id:-0}" sent \
  && ok "reply sent through Gmail's SMTP" \
  || bad "reply: $(q "SELECT state || ' ' || coalesce(last_error, '') FROM outbox WHERE id=${id:-0}")"
mid=$(q "SELECT message_id FROM outbox WHERE id=${id:-0}")
# Gmail filed it in Sent Mail (and All Mail); the next pass syncs that copy into the same message.
synced_copy() { [ "$(q "SELECT count(*) FROM locations l JOIN messages m ON m.id = l.message_id WHERE m.message_id='$mid' AND l.mailbox_id IS NOT NULL")" -ge 1 ]; }
wait_until 40 synced_copy && ok "the copy Gmail filed is synced" || bad "Gmail's Sent copy not synced"
expect_eq "$(q "SELECT count(*) FROM messages WHERE message_id='$mid'")" 1 "the reply is one message in the CRM"
if [ -e "$emu/appends" ]; then bad "crm-maild APPENDed to Gmail's Sent: $(cat "$emu/appends")"; else ok "no APPEND: Gmail files sent mail itself (detected by X-GM-EXT-1)"; fi
stop

# gmail = false: the extensions are not used.
lines=$(wc -l <"$work/gmail.log")
config "gmail = false" >"$work/crm.toml"
rm -f "$db" "$db"-*
"$ctl" db migrate >/dev/null && crm
start
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='p1@customer.example'" 1 \
  && ok "gmail = false: synced" || bad "gmail = false: not synced"
stop
if tail -n +"$((lines + 1))" "$work/gmail.log" | grep -q "X-GM-"; then bad "gmail = false still asks for X-GM items"; else ok "gmail = false: no X-GM items asked"; fi
finish
