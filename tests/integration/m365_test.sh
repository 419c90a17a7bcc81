#!/usr/bin/env bash
# A Microsoft 365 account (provider = "microsoft365") against the Exchange Online emulation of
# tests/integration/gmail_imap.py (IMAP and SMTP with SASL XOAUTH2) and the Microsoft token
# endpoint of tests/integration/dovecot/oauth2_introspect.py (issue 18):
#   - the first logins answer "User is authenticated but not connected": retried, never
#     needs_reauth, and the account syncs;
#   - XOAUTH2 on IMAP and SMTP with tokens from the refresh flow (a rotated refresh token each
#     time, written back to its file);
#   - the Sent folder has a localised name ("Gesendete Elemente") and is found by its \Sent
#     attribute;
#   - a reply goes out through the provider's SMTP, which files it in Sent Items itself:
#     crm-maild does not APPEND a second copy, and the filed copy is synced into the same message.
#   m365_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
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
start_work m365

emu=$work/exchange
mkdir -p "$emu/seed" "$work/secrets"
cat >"$emu/seed/1.eml" <<'EML'
From: Chloe Customer <customer@customer.example>
To: bob@example.com
Subject: Licence renewal
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <lic-1@customer.example>

How many seats next year?
EML
tokens=$work/tokens
: >"$tokens"
token_port=$(free_port)
python3 "$here/dovecot/oauth2_introspect.py" "$token_port" "$tokens" >"$work/token-endpoint.log" 2>&1 &
pids+=($!)
python3 "$here/gmail_imap.py" "$emu" --flavour microsoft365 --tokens "$tokens" --not-connected 2 \
  >"$work/exchange.log" 2>&1 &
pids+=($!)
ready() { [ -s "$emu/imap.port" ] && [ -s "$emu/smtp.port" ] && python3 -c "import socket; socket.create_connection(('127.0.0.1', $token_port), 1)" 2>/dev/null; }
wait_until 10 ready || { bad "the emulators did not start: $(cat "$work/exchange.log" "$work/token-endpoint.log")"; finish; }
printf 'bob-refresh\n' >"$work/secrets/bob-refresh"
chmod 0600 "$work/secrets/bob-refresh"
db=$work/crm.db
q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$1"; }
q_is() { [ "$(q "$1")" = "$2" ]; }
cat >"$work/crm.toml" <<TOML
[database]
path = "$db"
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $(free_port)
[[accounts]]
name = "ms"
owner_id = 1
address = "bob@example.com"
poll_interval = 10
provider = "microsoft365"
[accounts.imap]
# The emulator stands in for outlook.office365.com and the token endpoint for Microsoft's.
host = "127.0.0.1"
port = $(cat "$emu/imap.port")
tls = "none"
allow_insecure = true
username = "bob@example.com"
auth = "xoauth2"
oauth_token_endpoint = "http://127.0.0.1:$token_port/microsoft/token"
oauth_client_id = "crm-test"
oauth_refresh_token_file = "$work/secrets/bob-refresh"
[accounts.smtp]
host = "127.0.0.1"
port = $(cat "$emu/smtp.port")
tls = "none"
allow_insecure = true
TOML
export CRM_MAIL_CONFIG=$work/crm.toml
"$ctl" db migrate >/dev/null || bad "db migrate"
printf 'id,name,email,role\n1,Bob,bob@example.com,salesperson\n' >"$work/u.csv"
"$ctl" crm import users "$work/u.csv" >/dev/null || bad "crm import users"

CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/crm.toml" 2>>"$work/maild.log" &
pid=$!
pids+=("$pid")
wait_until 40 q_is "SELECT count(*) FROM messages WHERE message_id='lic-1@customer.example'" 1 \
  && ok "synced after the transient 'not connected' answers" \
  || bad "not synced: $(q "SELECT state, last_error_class, last_error FROM accounts")"
grep -q "net.busy" "$work/maild.log" && ok "'authenticated but not connected' was retried (net.busy)" || bad "no net.busy retry logged"
state=$(q "SELECT state FROM accounts WHERE name='ms'")
case $state in idle|syncing) ok "the account is healthy ($state), not needs_reauth" ;; *) bad "account state: $state" ;; esac
sent_folder=$(q "SELECT name FROM mailboxes WHERE name <> 'INBOX'")
expect_eq "$sent_folder" "Gesendete Elemente" "the localised Sent folder found by its \\Sent attribute"
case $(cat "$work/secrets/bob-refresh") in bob-refresh-*) ok "the rotated refresh token was written back" ;; *) bad "refresh token file not rotated" ;; esac

thread=$(q "SELECT thread_id FROM messages WHERE message_id='lic-1@customer.example'")
printf 'Fifty seats.\n' >"$work/body.txt"
id=$("$ctl" reply "$thread" --body-file "$work/body.txt" 2>"$work/reply.err")
[ -n "$id" ] && ok "reply queued" || bad "reply queued: $(cat "$work/reply.err")"
wait_until 30 q_is "SELECT state FROM outbox WHERE id=${id:-0}" sent \
  && ok "reply sent over SMTP with XOAUTH2" \
  || bad "reply: $(q "SELECT state || ' ' || coalesce(last_error, '') FROM outbox WHERE id=${id:-0}")"
mid=$(q "SELECT message_id FROM outbox WHERE id=${id:-0}")
in_sent() { [ "$(q "SELECT count(*) FROM locations l JOIN messages m ON m.id = l.message_id JOIN mailboxes b ON b.id = l.mailbox_id WHERE m.message_id='$mid' AND b.name='Gesendete Elemente'")" = 1 ]; }
wait_until 40 in_sent && ok "the copy Exchange filed in Sent Items is synced" || bad "Sent Items copy not synced"
expect_eq "$(q "SELECT count(*) FROM messages WHERE message_id='$mid'")" 1 "the reply is one message in the CRM"
if [ -e "$emu/appends" ]; then bad "crm-maild APPENDed a second copy: $(cat "$emu/appends")"; else ok "no APPEND: Microsoft 365 files sent mail itself"; fi
kill -TERM "$pid"; wait "$pid" 2>/dev/null
if grep -q "bob-refresh\|bob-fresh-" "$work/maild.log"; then bad "a token in the log"; else ok "no token in the log"; fi
finish
