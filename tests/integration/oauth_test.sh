#!/usr/bin/env bash
# OAuth2 refresh-token accounts the whole way (issue 18), against the test Dovecot (XOAUTH2 over
# its introspection endpoint) and Postfix (SMTP AUTH through Dovecot), with the token endpoints
# of tests/integration/dovecot/oauth2_introspect.py emulating Google's and Microsoft's:
#   - crm-mailctl accounts test logs in with a token from the refresh flow;
#   - "goog" (Google-style endpoint) syncs, and a reply goes out over SMTP with XOAUTH2, the
#     SMTP settings inheriting the IMAP account's OAuth settings, is delivered, and is filed in
#     Sent once; the access token is kept between connections (few endpoint requests);
#   - "ms" (Microsoft-style endpoint, a new refresh token each time and the old one refused)
#     syncs; its refresh token file is rewritten with the new token (mode 0600); after a
#     restart the daemon still logs in (the old token would be refused);
#   - a refresh token the endpoint refuses (invalid_grant) puts the account in needs_reauth,
#     naming the cause, and never shows the token in the log;
#   - crm-mailctl accounts oauth grants access again: Google's loopback redirect with PKCE (a
#     redirect with a foreign state refused), Microsoft's device flow (a declined consent
#     changes nothing); the token lands in the account's file (0600) and a reload logs in;
#   - the admin page's API runs the device flow in the daemon (POST/GET .../accounts/NAME/oauth),
#     stores the token and logs the account in again; for Google it runs the redirect flow, whose
#     redirect comes back to the daemon's /oauth/callback (a forged state, a refusal and a
#     replayed redirect refused); a salesperson may not start either.
#   oauth_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run.
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration
dcs=$here/dovecot
pfs=$here/postfix
. "$here/lib.sh"
need_root_and dovecot postfix sqlite3 python3 curl
expect_grep() { if grep -qE -- "$1" "$2"; then ok "$3"; else bad "$3: /$1/ not in $(head -c 800 "$2")"; fi; }
work=$(mktemp -d /tmp/crm-oauth.XXXXXX)
chmod 0755 "$work"
dc=$work/dovecot
pf=$work/postfix
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  "$pfs/stop.sh" "$pf" >/dev/null 2>&1
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc.err") || { bad "dovecot: $(cat "$work/dc.err")"; finish; }
# shellcheck disable=SC1090
. "$envfile"
pfenv=$("$pfs/start.sh" "$pf" "$dc" 2>"$work/pf.err") || { bad "postfix: $(cat "$work/pf.err")"; finish; }
# shellcheck disable=SC1090
. "$pfenv"
tokens=$dc/oauth2-tokens
endpoint=http://127.0.0.1:$OAUTH2_PORT
db=$work/crm.db
q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$1"; }
q_is() { [ "$(q "$1")" = "$2" ]; }
requests() { grep -c "^$1 $2 200" "$tokens.requests" 2>/dev/null || true; }

mkdir -p "$work/secrets"
printf 'alice-refresh\n' >"$work/secrets/goog-refresh"
printf 'bob-refresh\n' >"$work/secrets/ms-refresh"
printf 'nobody-refresh\n' >"$work/secrets/revoked-refresh"
chmod 0600 "$work/secrets/"*
http_port=$(free_port)
account() { # name user path refresh_file consent-lines
  cat <<TOML
[[accounts]]
name = "$1"
owner_id = 1
address = "$2@example.com"
poll_interval = 10
folders = ["INBOX", "Sent"]
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "$2"
auth = "xoauth2"
oauth_token_endpoint = "$endpoint$3"
oauth_client_id = "crm-test"
oauth_refresh_token_file = "$4"
$5
TOML
}
{
  cat <<TOML
[database]
path = "$db"
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $http_port
TOML
  account goog alice /google/token "$work/secrets/goog-refresh" "oauth_authorize_endpoint = \"$endpoint/google/auth\"
oauth_scope = \"https://mail.google.com/\""
  # SMTP inherits the IMAP account's username, auth and OAuth settings.
  cat <<TOML
[accounts.smtp]
host = "127.0.0.1"
port = $SMTPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
TOML
  account ms bob /microsoft/token "$work/secrets/ms-refresh" "oauth_device_endpoint = \"$endpoint/microsoft/devicecode\"
oauth_scope = \"offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send\""
} >"$work/crm.toml"
export CRM_MAIL_CONFIG=$work/crm.toml

"$ctl" db migrate >/dev/null || bad "db migrate"
printf 'id,name,email,role\n1,Alice,alice@example.com,salesperson\n2,Ada,ada@example.com,admin\n' >"$work/u.csv"
printf 'id,name,domains\n10,Customer Inc,customer.example\n' >"$work/c.csv"
printf 'id,name,emails,company_id\n100,Chloe Customer,customer@customer.example,10\n' >"$work/p.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n500,Renewal,10,100,1,proposal,open,100,EUR\n' >"$work/d.csv"
for k in users:u companies:c contacts:p deals:d; do
  "$ctl" crm import "${k%%:*}" "$work/${k#*:}.csv" >/dev/null || bad "crm import ${k%%:*}"
done
mail() { # user message-id subject
  printf 'From: Chloe Customer <customer@customer.example>\r\nTo: %s@example.com\r\nSubject: %s\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\nMessage-ID: <%s>\r\n\r\nHello\r\n' \
    "$1" "$3" "$2" >"$work/$2.eml"
  "$dcs/seed.sh" "$dc" "$1" "$work/$2.eml" >/dev/null || bad "seed $2"
}
mail alice g1@customer.example "Renewal pricing"
mail bob m1@customer.example "Licence count"

# --- the connection test runs the refresh flow --------------------------------------------------
if "$ctl" accounts test goog >"$work/test.out" 2>&1; then
  expect_grep "logged in" "$work/test.out" "accounts test goog: logged in with a refreshed token"
else
  bad "accounts test goog: $(cat "$work/test.out")"
fi

# --- sync and a reply over SMTP with XOAUTH2 ----------------------------------------------------
before=$(requests /google/token alice) # the connection test's (IMAP and SMTP)
start() { CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/crm.toml" 2>>"$work/maild.log" & pid=$!; pids+=("$pid"); }
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
start
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id IN ('g1@customer.example', 'm1@customer.example')" 2 \
  && ok "both OAuth accounts synced" || bad "OAuth accounts synced: $(q "SELECT name, state, last_error FROM accounts")"
thread=$(q "SELECT thread_id FROM messages WHERE message_id='g1@customer.example'")
printf 'Here is the pricing.\n' >"$work/body.txt"
id=$("$ctl" reply "$thread" --body-file "$work/body.txt" 2>"$work/reply.err")
[ -n "$id" ] && ok "reply queued" || bad "reply queued: $(cat "$work/reply.err")"
wait_until 40 q_is "SELECT state FROM outbox WHERE id=${id:-0}" sent \
  && ok "reply sent over SMTP with XOAUTH2 (SMTP inherits the IMAP OAuth settings)" \
  || bad "reply sent: $(q "SELECT state || ' ' || coalesce(last_error, '') FROM outbox WHERE id=${id:-0}")"
customer_has() { [ "$($DOVEADM search -u customer mailbox INBOX all 2>/dev/null | wc -l)" -ge 1 ]; }
wait_until 30 customer_has && ok "reply delivered through Postfix" || bad "reply delivered"
mid=$(q "SELECT message_id FROM outbox WHERE id=${id:-0}")
in_sent() { [ "$($DOVEADM search -u alice mailbox Sent header message-id "$mid" | wc -l)" = 1 ]; }
wait_until 30 in_sent && ok "the copy is APPENDed to Sent once, with the same token source" || bad "copy in Sent"
google=$(($(requests /google/token alice) - before))
# One token serves the sync, the SMTP session, the APPEND and the mirroring: it is kept.
if [ "$google" -ge 1 ] && [ "$google" -le 2 ]; then ok "Google token asked $google time(s) for sync, send and APPEND"; else bad "Google token requests: $google"; fi

# --- Microsoft rotates refresh tokens: written back, and a restart uses the new one -------------
rotated=$(cat "$work/secrets/ms-refresh")
case $rotated in bob-refresh-*) ok "rotated refresh token written back ($rotated)" ;; *) bad "ms refresh file: $rotated" ;; esac
expect_eq "$(stat -c %a "$work/secrets/ms-refresh")" 600 "the refresh token file stays 0600"
stop
mail bob m2@customer.example "Licence count again"
start
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='m2@customer.example'" 1 \
  && ok "after a restart the rotated refresh token logs in (the old one is refused)" \
  || bad "ms after restart: $(q "SELECT state, last_error FROM accounts WHERE name='ms'")"
stop
if grep -q "alice-refresh\|bob-refresh\|-fresh-" "$work/maild.log"; then bad "a token appears in the log"; else ok "no token in the log"; fi

# --- a refused refresh token: needs_reauth with the cause ----------------------------------------
printf 'revoked-by-user\n' >"$work/secrets/goog-refresh"
start
wait_until 30 q_is "SELECT state FROM accounts WHERE name='goog'" needs_reauth \
  && ok "invalid_grant puts the account in needs_reauth" \
  || bad "goog state: $(q "SELECT state, last_error FROM accounts WHERE name='goog'")"
expect_grep "invalid_grant" <(q "SELECT last_error FROM accounts WHERE name='goog'") "its error names invalid_grant"

# --- consent: the admin grants access again (crm-mailctl accounts oauth) -------------------------
# Google: the loopback redirect with PKCE (its device flow does not allow the Gmail scope). The
# test plays the admin's browser: it opens the printed address, which the emulated Google
# redirects to crm-mailctl's loopback listener.
"$ctl" accounts oauth goog --timeout 40 >"$work/consent-g.out" 2>&1 &
cpid=$!
url_ready() { grep -q "^http://.*/google/auth?" "$work/consent-g.out"; }
wait_until 10 url_ready || bad "no consent address printed: $(cat "$work/consent-g.out")"
url=$(grep -m1 "^http://.*/google/auth?" "$work/consent-g.out")
expect_grep "code_challenge_method=S256" <(echo "$url") "the address asks for PKCE (S256)"
expect_grep "login_hint=alice" <(echo "$url") "the address names the mailbox (login_hint)"
lport=${url#*redirect_uri=http%3A%2F%2F127.0.0.1%3A}
lport=${lport%%%2F*}
# A redirect that does not answer this request (another state) is refused; the wait goes on.
curl -s "http://127.0.0.1:$lport/?code=forged&state=forged" >"$work/forged.html"
expect_grep "does not belong" "$work/forged.html" "a redirect with a foreign state is refused"
curl -s -L "$url" >"$work/consent.html"
expect_grep "can close this window" "$work/consent.html" "the browser is told the access was granted"
wait "$cpid"
expect_eq "$?" 0 "accounts oauth goog (loopback) succeeds"
expect_eq "$(cat "$work/secrets/goog-refresh")" alice-refresh "the granted refresh token is stored in the account's file"
expect_eq "$(stat -c %a "$work/secrets/goog-refresh")" 600 "the stored refresh token is mode 0600"
expect_eq "$(grep -c "^/google/token#code alice 200" "$tokens.requests")" 1 \
  "the code was redeemed once, with the PKCE verifier (the emulator checks it)"
# The running daemon picks the new token up on reload, and the account recovers.
mail alice g2@customer.example "Renewal pricing again"
kill -HUP "$pid"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='g2@customer.example'" 1 \
  && ok "after reload the account logs in with the granted token and syncs" \
  || bad "goog after consent: $(q "SELECT state, last_error FROM accounts WHERE name='goog'")"
grep -q "refresh token replaced" "$work/maild.log" && ok "reload restarted the account for the new token" \
  || bad "no restart logged for the replaced refresh token"

# Microsoft: the device flow. The admin enters the printed code on Microsoft's page (the test
# answers for the user at the emulator). A refusal changes nothing.
printf 'bob-refresh-old\n' >"$work/secrets/ms-refresh"
device_consent() { # action
  "$ctl" accounts oauth ms --timeout 40 >"$work/consent-m.out" 2>&1 &
  cpid=$!
  code_ready() { grep -q "enter the code" "$work/consent-m.out"; }
  wait_until 10 code_ready || bad "no device code printed: $(cat "$work/consent-m.out")"
  ucode=$(grep -o "enter the code [0-9A-F]*-[0-9A-F]*" "$work/consent-m.out" | awk '{print $4}')
  sleep 1.5 # at least one poll while the answer is pending
  curl -s -d "user_code=$ucode&user=bob&action=$1" "$endpoint/microsoft/device" >/dev/null
  wait "$cpid"
}
device_consent deny
expect_eq "$?" 1 "a declined device consent fails"
expect_grep "authorization_declined" "$work/consent-m.out" "and says the user declined"
expect_eq "$(cat "$work/secrets/ms-refresh")" bob-refresh-old "a declined consent leaves the token file alone"
device_consent approve
expect_eq "$?" 0 "accounts oauth ms (device flow) succeeds"
expect_eq "$(cat "$work/secrets/ms-refresh")" "$(awk '$1 == "bob" {print $2}' "$tokens.refresh")" \
  "the device flow's refresh token is stored"
if grep -q "^/microsoft/token#device bob 400" "$tokens.requests"; then ok "the token endpoint was polled while pending"; else bad "no pending poll"; fi
mail bob m3@customer.example "Licence count, third"
kill -HUP "$pid"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='m3@customer.example'" 1 \
  && ok "after reload the Microsoft account syncs with the granted token" \
  || bad "ms after consent: $(q "SELECT state, last_error FROM accounts WHERE name='ms'")"

# The same from the admin page: the API behind its "Grant access" button runs the device flow in
# the daemon, stores the token and logs the account in again.
"$ctl" tokens create 2 --name admin >"$work/ada.token" 2>/dev/null
admin_api() { # method path
  curl -s -X "$1" -H "Authorization: Bearer $(cat "$work/ada.token")" "http://127.0.0.1:$http_port/api/v1/accounts/$2"
}
printf 'bob-refresh-revoked\n' >"$work/secrets/ms-refresh"
admin_api POST ms/oauth >"$work/consent.json"
ucode=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["consent"]["user_code"])' "$work/consent.json" 2>/dev/null)
[ -n "$ucode" ] && ok "POST /api/v1/accounts/ms/oauth gives a code to enter" || bad "no code from the admin API: $(cat "$work/consent.json")"
expect_grep '"state":"pending"' <(admin_api GET ms/oauth) "the consent waits for the admin"
curl -s -d "user_code=$ucode&user=bob&action=approve" "$endpoint/microsoft/device" >/dev/null
granted() { admin_api GET ms/oauth | grep -q '"state":"granted"'; }
wait_until 20 granted && ok "the admin API reports the access granted" || bad "consent state: $(admin_api GET ms/oauth)"
expect_eq "$(cat "$work/secrets/ms-refresh")" "$(awk '$1 == "bob" {print $2}' "$tokens.refresh")" \
  "the daemon stored the granted refresh token"
expect_eq "$(stat -c %a "$work/secrets/ms-refresh")" 600 "still mode 0600"
mail bob m4@customer.example "Licence count, fourth"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='m4@customer.example'" 1 \
  && ok "the account logs in again with it, without a reload" \
  || bad "ms after the admin consent: $(q "SELECT state, last_error FROM accounts WHERE name='ms'")"

# Only an admin may grant access: a salesperson's token is refused and starts nothing.
"$ctl" tokens create 1 --name alice >"$work/alice.token" 2>/dev/null
code=$(curl -s -o "$work/sales-consent.json" -w '%{http_code}' -X POST \
  -H "Authorization: Bearer $(cat "$work/alice.token")" "http://127.0.0.1:$http_port/api/v1/accounts/goog/oauth")
expect_eq "$code" 403 "a salesperson may not start a consent (POST .../oauth)"
expect_grep '"state":"none"' <(admin_api GET goog/oauth) "... and none was started"

# Google from the admin page: the redirect flow. The page sends the admin to Google's consent
# page, whose redirect comes back to the daemon's /oauth/callback (here the default,
# http://127.0.0.1:PORT/oauth/callback); the daemon redeems the code with its PKCE verifier.
callback="http://127.0.0.1:$http_port/oauth/callback"
consent_url() { python3 -c 'import json,sys; print(json.load(sys.stdin)["consent"]["authorize_url"])'; }
aurl=$(admin_api POST goog/oauth | consent_url)
case "$aurl" in
  "$endpoint/google/auth?"*redirect_uri=http%3A%2F%2F127.0.0.1%3A$http_port%2Foauth%2Fcallback*) ok "POST .../goog/oauth gives Google's consent address, redirecting to /oauth/callback" ;;
  *) bad "authorize_url: $aurl" ;;
esac
expect_eq "$(curl -s -o "$work/forged.html" -w '%{http_code}' "$callback?code=4/forged&state=forged")" 400 \
  "a redirect whose state is not the pending request's is refused (400)"
expect_grep '"state":"pending"' <(admin_api GET goog/oauth) "... and the real request still waits"
# The admin refuses at Google: the page says so, the file is untouched.
printf 'alice-refresh-before\n' >"$work/secrets/goog-refresh"
expect_eq "$(curl -s -L -o "$work/denied.html" -w '%{http_code}' "$aurl&emu_deny=1")" 502 "a refusal at Google is reported (502)"
expect_grep 'access_denied' "$work/denied.html" "... naming Google's error"
expect_grep '"state":"failed"' <(admin_api GET goog/oauth) "... and the consent failed"
expect_eq "$(cat "$work/secrets/goog-refresh")" alice-refresh-before "a refused consent leaves the token file alone"
# Again, and the admin allows it.
aurl=$(admin_api POST goog/oauth | consent_url)
expect_eq "$(curl -s -L -o "$work/granted.html" -w '%{http_code}' "$aurl")" 200 "the provider's redirect is accepted"
expect_grep 'has the access it asked for' "$work/granted.html" "... and the admin's browser is told"
expect_grep '"state":"granted"' <(admin_api GET goog/oauth) "the admin API reports the access granted"
expect_eq "$(cat "$work/secrets/goog-refresh")" alice-refresh "the daemon stored Google's refresh token"
expect_eq "$(stat -c %a "$work/secrets/goog-refresh")" 600 "... mode 0600"
grep -o 'state=[^&]*' <<<"$aurl" >"$work/state"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "$callback?code=4/again&$(cat "$work/state")")" 400 \
  "a second redirect with the same state is refused (one use)"
mail alice m5@customer.example "Renewal, after consent"
wait_until 30 q_is "SELECT count(*) FROM messages WHERE message_id='m5@customer.example'" 1 \
  && ok "the Google account syncs after the admin page's consent" \
  || bad "goog after the admin consent: $(q "SELECT state, last_error FROM accounts WHERE name='goog'")"
stop
if grep -q "alice-refresh\|bob-refresh\|-fresh-" "$work/maild.log"; then bad "a token appears in the log"; else ok "no token in the log after consent"; fi
finish
