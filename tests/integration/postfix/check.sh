#!/usr/bin/env bash
# Self-test of the test Postfix scripts: a test Dovecot (../dovecot/start.sh) and start.sh in a
# fresh temp dir, then submission over SMTPS and STARTTLS with the curl CLI and delivery into the
# customer's INBOX via LMTP, AUTH/TLS enforcement, forced 5xx/4xx recipients, no relaying,
# restart, stop.sh. Prints "N passed, M failed"; exits 1 if anything failed, 77 if it cannot run
# (not root, or a tool missing).
#   check.sh [REPO_ROOT]     (default: three levels above this script's directory)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${1:-$(cd "$here/../../.." && pwd)}
dovecot_scripts=$root/tests/integration/dovecot

# Exit 77 (CTest SKIP_RETURN_CODE) where the test cannot run at all.
for tool in postfix postconf dovecot doveadm openssl curl python3 ss; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run postfix and dovecot with their own config"; exit 77; }
getent passwd postfix >/dev/null || { echo "SKIP: user postfix missing (install the postfix package)"; exit 77; }

work=$(mktemp -d /tmp/pfchk.XXXXXX)
chmod 0755 "$work"   # the mail uid must traverse it
dc=$work/dc
pf=$work/pf
cleanup() {
  "$here/stop.sh" "$pf" >/dev/null 2>&1
  "$dovecot_scripts/stop.sh" "$dc" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

pass=0
failn=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_grep() { # pattern file description
  if grep -qE -- "$1" "$2"; then ok "$3"; else bad "$3: /$1/ not in output: $(head -c 800 "$2")"; fi
}
finish() {
  if [ "$failn" -gt 0 ] && [ -f "$pf/postfix.log" ]; then
    echo "--- tail of $pf/postfix.log"; tail -n 30 "$pf/postfix.log"
  fi
  echo "$pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit $?
}

# --- start ---------------------------------------------------------------------------------------
if "$dovecot_scripts/start.sh" "$dc" --no-oauth2 >/dev/null 2>"$work/dcstart.err"; then
  ok "dovecot start.sh"
else
  bad "dovecot start.sh failed: $(cat "$work/dcstart.err")"; finish
fi
if envfile=$("$here/start.sh" "$pf" "$dc" 2>"$work/start.err"); then
  ok "start.sh ($(grep -o 'up in .*' "$work/start.err"))"
else
  bad "start.sh failed: $(cat "$work/start.err")"; finish
fi
# shellcheck disable=SC1091
. "$dc/env"
# shellcheck disable=SC1090
. "$envfile"
missing=""
for v in POSTFIX_DIR SMTPS_PORT SUBMISSION_PORT CA_FILE POSTFIX POSTQUEUE POSTFIX_LOG; do
  [ -n "${!v:-}" ] || missing="$missing $v"
done
[ -z "$missing" ] && ok "env has SMTPS_PORT SUBMISSION_PORT CA_FILE POSTFIX ..." || bad "env lacks$missing"

if $POSTFIX check >"$work/pfcheck" 2>&1 && [ ! -s "$work/pfcheck" ]; then
  ok "\$POSTFIX check is clean"
else
  bad "\$POSTFIX check: $(head -c 800 "$work/pfcheck")"
fi

# Listeners must be on 127.0.0.1 only, and nothing of ours on port 25.
if ss -ltnH | awk '{print $4}' | grep -E ":($SMTPS_PORT|$SUBMISSION_PORT)\$" | grep -qv '^127\.0\.0\.1:'; then
  bad "a listener is not bound to 127.0.0.1: $(ss -ltnH | grep -E ":($SMTPS_PORT|$SUBMISSION_PORT) ")"
else
  ok "listeners bound to 127.0.0.1 only"
fi

# --- helpers ---------------------------------------------------------------------------------------
msg() { # file subject [extra header lines]
  printf 'From: Alice <alice@example.com>\r\nTo: Customer <customer@example.com>\r\nSubject: %s\r\nMessage-ID: <%s@crm-test>\r\n%sDate: %s\r\n\r\nHello from the test.\r\n' \
    "$2" "$2" "${3:-}" "$(date -R)" >"$1"
}
# send PROTO PORT RCPT [curl args...]: curl's exit status; verbose transcript in $work/out
send() {
  local proto=$1 port=$2 rcpt=$3; shift 3
  curl -sS -v --max-time 20 --cacert "$CA_FILE" "$proto://127.0.0.1:$port" \
    --mail-from alice@example.com --mail-rcpt "$rcpt" --upload-file "$work/msg.eml" "$@" \
    >"$work/out" 2>&1
}
count() { # user: number of messages in INBOX
  $DOVEADM search -u "$1" mailbox INBOX all 2>/dev/null | wc -l
}
wait_count() { # user n timeout_s: poll until INBOX has n messages (Postfix delivers asynchronously)
  local deadline=$((SECONDS + $3))
  while [ "$(count "$1")" -lt "$2" ]; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.05
  done
}
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- SMTPS (implicit TLS) ------------------------------------------------------------------------------
msg "$work/msg.eml" smtps-1
t0=$(date +%s%N)
if send smtps "$SMTPS_PORT" customer@example.com --ssl-reqd --user alice:alice-pw; then
  if wait_count customer 1 15; then
    ok "SMTPS + AUTH PLAIN: delivered to customer's INBOX in $(ms_since "$t0")ms (submit to visible)"
  else
    bad "SMTPS message accepted but not in customer's INBOX after 15s: $($POSTQUEUE -p 2>&1 | tail -n 5)"
  fi
else
  bad "SMTPS send (rc=$?): $(grep -E '^[<*]' "$work/out" | tail -n 8)"
fi
expect_grep '^< 250-AUTH .*PLAIN' "$work/out" "SMTPS offers AUTH PLAIN"
expect_grep '^< 250-AUTH .*LOGIN' "$work/out" "SMTPS offers AUTH LOGIN"
expect_grep 'issuer: CN=crm-mail test CA' "$work/out" "certificate from the Dovecot test CA, valid for 127.0.0.1"

$DOVEADM fetch -u customer 'hdr' mailbox INBOX header message-id '<smtps-1@crm-test>' >"$work/hdr" 2>&1
expect_grep '^Subject: smtps-1' "$work/hdr" "delivered message is intact (Subject)"
expect_grep 'with ESMTPSA' "$work/hdr" "Received: header says ESMTPSA (authenticated, TLS)"
expect_grep '^Delivered-To: customer@example.com' "$work/hdr" "Dovecot LMTP added Delivered-To"

# --- submission with STARTTLS ----------------------------------------------------------------------------
msg "$work/msg.eml" starttls-1
t0=$(date +%s%N)
if send smtp "$SUBMISSION_PORT" customer@localhost --ssl-reqd --user bob:bob-pw --login-options AUTH=LOGIN; then
  if wait_count customer 2 15; then
    ok "STARTTLS + AUTH LOGIN to customer@localhost: delivered in $(ms_since "$t0")ms"
  else
    bad "STARTTLS message accepted but not delivered after 15s: $($POSTQUEUE -p 2>&1 | tail -n 5)"
  fi
else
  bad "STARTTLS send (rc=$?): $(grep -E '^[<*]' "$work/out" | tail -n 8)"
fi
expect_grep '^> STARTTLS' "$work/out" "curl issued STARTTLS on the submission port"
expect_grep '^> AUTH LOGIN' "$work/out" "AUTH LOGIN used"

# STARTTLS is required there: without TLS no AUTH is offered and MAIL is refused.
msg "$work/msg.eml" plain-1
send smtp "$SUBMISSION_PORT" customer@example.com --user alice:alice-pw
rc=$?
if [ $rc -ne 0 ] && ! grep -q '^< 250-AUTH' "$work/out"; then
  ok "submission without STARTTLS refused (rc=$rc, no AUTH offered before TLS)"
else
  bad "submission without STARTTLS: rc=$rc: $(grep -E '^[<>]' "$work/out" | tail -n 8)"
fi
send smtp "$SUBMISSION_PORT" customer@example.com
rc=$?
if [ $rc -ne 0 ] && grep -qE '^< 530 5\.7\.0 .*STARTTLS' "$work/out"; then
  ok "MAIL before STARTTLS: 530 Must issue a STARTTLS command first"
else
  bad "MAIL before STARTTLS: rc=$rc: $(grep -E '^[<>]' "$work/out" | tail -n 5)"
fi

# --- AUTH required, wrong password, no relaying -------------------------------------------------------
before=$(count customer)
for p in "smtps $SMTPS_PORT" "smtp $SUBMISSION_PORT"; do
  set -- $p
  send "$1" "$2" customer@example.com --ssl-reqd
  rc=$?
  if [ $rc -ne 0 ] && grep -qE '^< 5[0-9][0-9] ' "$work/out" && ! grep -q '^< 354' "$work/out"; then
    ok "$1 without AUTH refused (rc=$rc: $(grep -E '^< 5' "$work/out" | head -n 1 | tr -d '\r' | cut -c3-))"
  else
    bad "$1 without AUTH: rc=$rc: $(grep -E '^[<>]' "$work/out" | tail -n 6)"
  fi
  send "$1" "$2" someone@relay-target.example.net --ssl-reqd
  rc=$?
  if [ $rc -ne 0 ] && grep -qE '^< 5[0-9][0-9] ' "$work/out" && ! grep -q '^< 354' "$work/out"; then
    ok "$1 relaying to an outside address without AUTH refused (rc=$rc)"
  else
    bad "$1 relay without AUTH: rc=$rc: $(grep -E '^[<>]' "$work/out" | tail -n 6)"
  fi
  send "$1" "$2" customer@example.com --ssl-reqd --user alice:wrong-pw
  rc=$?
  if [ $rc -ne 0 ] && grep -qE '^< 535 ' "$work/out"; then
    ok "$1 wrong password refused (rc=$rc, 535)"
  else
    bad "$1 wrong password: rc=$rc: $(grep -E '^[<>]' "$work/out" | tail -n 6)"
  fi
done
t0=$(date +%s%N)
msg "$work/msg.eml" after-fail
send smtps "$SMTPS_PORT" customer@example.com --ssl-reqd --user alice:alice-pw
rc=$?
ms=$(ms_since "$t0")
[ $rc -eq 0 ] && [ "$ms" -lt 1500 ] && ok "login right after failures is not delayed (${ms}ms)" \
  || bad "login after failures: rc=$rc ${ms}ms"
wait_count customer $((before + 1)) 15
sleep 0.3
[ "$(count customer)" -eq $((before + 1)) ] && ok "refused attempts delivered nothing" \
  || bad "customer has $(count customer) messages, want $((before + 1))"

# --- forced errors and unknown users at RCPT --------------------------------------------------------------
msg "$work/msg.eml" forced
rcpt_check() { # rcpt want_rc reply_regex description
  send smtps "$SMTPS_PORT" "$1" --ssl-reqd --user alice:alice-pw
  local rc=$?
  local reply
  reply=$(grep -E '^< [45][0-9][0-9] ' "$work/out" | head -n 1 | tr -d '\r' | cut -c3-)
  if [ $rc -eq "$2" ] && grep -qE "^< $3" "$work/out"; then
    ok "$4 (curl rc=$rc: $reply)"
  else
    bad "$4: rc=$rc (want $2): $(grep -E '^[<>]' "$work/out" | tail -n 6)"
  fi
}
rcpt_check reject550@example.com 55 '550 5\.1\.1 .*no such user' "reject550@ gets a permanent 550 at RCPT"
rcpt_check reject550@localhost 55 '550 5\.1\.1 .*no such user' "reject550@ in any domain"
rcpt_check tempfail@example.com 55 '450 4\.2\.1 .*try later' "tempfail@ gets a temporary 450 at RCPT"
rcpt_check nosuchuser@example.com 55 '550 5\.1\.1 .*User unknown' "unknown user gets 550 User unknown at RCPT"
# With one good and one bad recipient curl gives up at the first RCPT failure (nothing sent).
send smtps "$SMTPS_PORT" customer@example.com --ssl-reqd --user alice:alice-pw --mail-rcpt tempfail@example.com
rc=$?
[ $rc -eq 55 ] && ok "good + tempfail recipient: curl fails the whole message (rc=55)" \
  || bad "good + tempfail recipient: rc=$rc"

# --- UTF-8 and plus addressing -------------------------------------------------------------------------
before=$(count carol)
printf 'From: alice@example.com\r\nTo: carol@example.com\r\nSubject: =?UTF-8?B?%s?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGr\xc3\xbc\xc3\x9fe, \xe2\x82\xac 5\r\n' \
  "$(printf 'Gr\xc3\xbc\xc3\x9fe' | base64)" >"$work/msg.eml"
if send smtps "$SMTPS_PORT" carol+crm@example.com --ssl-reqd --user alice:alice-pw && wait_count carol $((before + 1)) 15; then
  ok "8bit UTF-8 body to carol+crm@example.com delivered to carol's INBOX"
else
  bad "UTF-8 / plus address: $(grep -E '^[<>]' "$work/out" | tail -n 4)"
fi

# --- restart is idempotent, then stop -------------------------------------------------------------------
master=$(tr -d ' \n' <"$pf/spool/pid/master.pid" 2>/dev/null)
if "$here/start.sh" "$pf" "$dc" >/dev/null 2>"$work/start2.err"; then
  . "$pf/env"
  msg "$work/msg.eml" after-restart
  before=$(count customer)
  if send smtps "$SMTPS_PORT" customer@example.com --ssl-reqd --user alice:alice-pw && wait_count customer $((before + 1)) 15; then
    ok "start.sh on a running DIR restarts it ($(grep -o 'up in .*' "$work/start2.err")), delivery works"
  else
    bad "after restart: $(grep -E '^[<>]' "$work/out" | tail -n 4)"
  fi
else
  bad "second start.sh: $(cat "$work/start2.err")"
fi
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
[ -n "$master" ] && ! alive "$master" && ok "restart stopped the old master $master" || bad "old master $master still alive"
master=$(tr -d ' \n' <"$pf/spool/pid/master.pid" 2>/dev/null)
if "$here/stop.sh" "$pf" >/dev/null 2>&1 && [ -n "$master" ] && ! alive "$master"; then
  if python3 -c "import socket; socket.create_connection(('127.0.0.1', $SMTPS_PORT), timeout=1)" 2>/dev/null; then
    bad "SMTPS port still open after stop.sh"
  else
    ok "stop.sh stopped postfix master $master"
  fi
else
  bad "stop.sh did not stop postfix master $master"
fi
# Postfix daemons do not show the config dir in argv, but carry MAIL_CONFIG in their environment.
leftover=$(grep -lsxF "MAIL_CONFIG=$pf/etc" --null-data /proc/[0-9]*/environ | tr -d '\0' |
           sed 's|/proc/||; s|/environ| |' | tr '\n' ' ')
[ -z "$leftover" ] && ok "no process of the instance left" || bad "left over: $leftover"
errs=$(grep -E '(fatal|panic|error|warning):' "$pf/postfix.log" 2>/dev/null |
       grep -vE 'warning: unknown\[127\.0\.0\.1\]: SASL (PLAIN|LOGIN) authentication failed')
[ -z "$errs" ] && ok "no warnings or errors in postfix.log" || bad "in postfix.log: $(echo "$errs" | head -n 5)"
finish
