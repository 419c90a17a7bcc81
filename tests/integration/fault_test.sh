#!/usr/bin/env bash
# Fault tests of crm-maild against the scripted misbehaving server tests/integration/fake_imap.py:
# for every mode (cut-literal slow huge-literal long-line bye garbage, preauth on a STARTTLS
# account, a certificate not signed by the configured CA, and ok as a control) the daemon runs with
# one account on the fake server and one (alice) on a real, throwaway Dovecot. Checked: the faulty
# account shows the expected error class in the accounts table, the daemon keeps running, alice's
# mail is stored completely, SIGTERM still stops the daemon cleanly, no secret is logged.
#   fault_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (not root, tool missing).
# FAULT_MODES="bye slow" runs a subset; CRM_TEST_KEEP=1 keeps the temp dir.
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration
dcs=$here/dovecot

# shellcheck source=lib.sh
. "$here/lib.sh"
need_root_and dovecot doveadm sqlite3 python3 openssl

work=$(mktemp -d /tmp/crm-faulttest.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pids=()

trap cleanup_dovecot_test EXIT
trap 'exit 130' INT TERM


# --- Dovecot with alice's sample mail ----------------------------------------------------------
if ! envfile=$("$dcs/start.sh" "$dc" --no-oauth2 2>"$work/dc-start.err"); then
  bad "dovecot start: $(cat "$work/dc-start.err")"; finish
fi
# shellcheck disable=SC1090
. "$envfile"
"$dcs/seed.sh" "$dc" alice "$root/sample/mail/alice" >"$work/seed.out" 2>&1 || bad "seed: $(cat "$work/seed.out")"
alice_total=$($DOVEADM search -u alice mailbox INBOX all | wc -l)
alice_ids=$($DOVEADM fetch -u alice 'hdr.message-id' mailbox INBOX all | python3 -c '
import re, sys
for block in sys.stdin.read().split("\f"):
    m = re.search(r"<([^<>]+)>", block)
    if m:
        print(m.group(1).strip())' | LC_ALL=C sort)

# A certificate for 127.0.0.1 that the configured CA (Dovecot's) did not sign.
(
  cd "$work" && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
    -keyout rogue.key -out rogue.crt -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
) || bad "openssl could not make the rogue certificate"

secrets=$work/secrets
mkdir -p "$secrets"
chmod 0700 "$secrets"
printf 'alice-pw\n' >"$secrets/alice"
printf 'fault-Secr3t-pw\n' >"$secrets/fault"
chmod 0600 "$secrets"/*

q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$@"; }

# --- one run per mode ----------------------------------------------------------------------------
# mode; fake_imap.py extra args; account tls; expected last_error_class (ERE); wait (s)
cases=(
  "cut-literal;;none;^(net\.(closed|recv)|imap\.[a-z]+)$;20"
  "slow;;none;^imap\.timeout$;40"
  "huge-literal;;none;^imap\.protocol$;20"
  "long-line;;none;^imap\.protocol$;20"
  "bye;;none;^(imap\.bye|net\.closed)$;20"
  "garbage;;none;^(net|imap)\.protocol$;20"
  "preauth;--starttls --cert $work/rogue.crt --key $work/rogue.key;starttls;^net\.starttls$;20"
  "bad-cert;--cert $work/rogue.crt --key $work/rogue.key;implicit;^net\.tls$;20"
  "ok;;none;;20"
)
modes=${FAULT_MODES:-}
for c in "${cases[@]}"; do
  IFS=';' read -r mode fargs tls want limit <<<"$c"
  [ -n "$modes" ] && [[ " $modes " != *" $mode "* ]] && continue
  fmode=$mode
  [ "$mode" = bad-cert ] && fmode=ok
  rm -f "$work/port"
  # shellcheck disable=SC2086
  python3 "$here/fake_imap.py" "$fmode" "$work/port" $fargs >"$work/fake-$mode.log" 2>&1 &
  fake_pid=$!
  pids+=("$fake_pid")
  if ! wait_until 10 test -s "$work/port"; then
    bad "$mode: fake server did not start: $(cat "$work/fake-$mode.log")"; continue
  fi
  port=$(cat "$work/port")
  db=$work/$mode.db
  "$ctl" --db "$db" db migrate >/dev/null 2>&1 || bad "$mode: db migrate"
  extra="allow_insecure = true"
  [ "$tls" != none ] && extra="ca_file = \"$CA_FILE\""
  cat >"$work/$mode.toml" <<EOF
[database]
path = "$db"

[[accounts]]
name = "fault"
owner_id = 1
address = "fault@example.test"
folders = ["INBOX"]
initial_sync_days = 0

[accounts.imap]
host = "127.0.0.1"
port = $port
tls = "$tls"
$extra
username = "fault"
password_file = "$secrets/fault"

[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.test"
initial_sync_days = 0
batch_messages = 4

[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "alice"
password_file = "$secrets/alice"
EOF
  log=$work/$mode.log
  t0=$(now_ms)
  CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/$mode.toml" >"$log" 2>&1 </dev/null &
  dpid=$!
  pids+=("$dpid")

  fault_state() { q "SELECT state || '|' || coalesce(last_error_class, '') || '|' || coalesce(last_error, '') FROM accounts WHERE name = 'fault'"; }
  if [ "$mode" = ok ]; then
    control_ok() { [ "$(q "SELECT state FROM accounts WHERE name = 'fault'")" = idle ] &&
                   [ "$(q "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id WHERE a.name = 'fault'")" = 1 ]; }
    if wait_until "$limit" control_ok; then ok "ok (control): the fake server's message stored, idle"
    else bad "ok (control): $(fault_state)"; fi
  else
    faulted() {
      local s
      s=$(fault_state)
      [[ ${s%%|*} =~ ^(backoff|error|needs_reauth)$ ]] && [[ $(cut -d'|' -f2 <<<"$s") =~ $want ]]
    }
    if wait_until "$limit" faulted; then
      s=$(fault_state)
      ok "$mode: fault account ${s%%|*}, $(cut -d'|' -f2 <<<"$s") after $(($(now_ms) - t0)) ms: $(cut -d'|' -f3- <<<"$s" | cut -c1-110)"
    else
      bad "$mode: want error class /$want/, accounts row: $(fault_state)"
    fi
    expect_eq "$(q "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id WHERE a.name = 'fault'")" 0 \
      "$mode: nothing stored from the faulty server"
  fi
  alice_done() {
    [ "$(q "SELECT state FROM accounts WHERE name = 'alice'")" = idle ] &&
      [ "$(q "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id WHERE a.name = 'alice'")" = "$alice_total" ]
  }
  if wait_until 30 alice_done; then ok "$mode: alice synced ($alice_total messages)"
  else bad "$mode: alice not synced: $(q "SELECT state, last_error FROM accounts WHERE name = 'alice'")"; fi
  got_ids=$(q "SELECT m.message_id FROM locations l JOIN accounts a ON a.id = l.account_id JOIN messages m ON m.id = l.message_id
               WHERE a.name = 'alice' AND m.synthetic_id = 0" | LC_ALL=C sort)
  expect_eq "$got_ids" "$alice_ids" "$mode: alice's Message-IDs equal the server's"
  expect_eq "$(q "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY message_id, content_hash HAVING count(*) > 1)")" 0 \
    "$mode: no duplicate messages"
  # The faulty account keeps retrying (backoff), and the daemon survives that.
  if [ "$mode" != ok ]; then
    retried() { [ "$(grep -c "account=fault event=connect" "$log")" -ge 2 ]; }
    if wait_until 20 retried; then ok "$mode: fault account retried after backoff"
    else bad "$mode: fault account did not reconnect: $(grep "account=fault" "$log" | tail -2)"; fi
  fi
  if [ "$mode" = slow ]; then
    # Stop while the second slow FETCH is in flight: the command must be abandoned at once.
    fetching() { [ "$(grep -c "account=fault mailbox=\"INBOX\" event=initial-sync" "$log")" -ge 2 ]; }
    wait_until 20 fetching || bad "slow: no second fetch in flight"
    sleep 1
  fi
  if alive "$dpid"; then ok "$mode: daemon still running"
  else bad "$mode: daemon died: $(tail -3 "$log")"; fi
  ! grep -qE "event=crash|account loop failed" "$log" && ok "$mode: no account loop crash logged" ||
    bad "$mode: $(grep -E "event=crash|account loop failed" "$log" | head -2)"
  t1=$(now_ms)
  kill -TERM "$dpid" 2>/dev/null
  if wait_until 10 gone "$dpid"; then
    wait "$dpid"
    rc=$?
    ms=$(($(now_ms) - t1))
    if [ "$rc" = 0 ] && [ "$ms" -le 5000 ]; then ok "$mode: SIGTERM -> exit 0 in $ms ms"
    else bad "$mode: SIGTERM -> exit $rc after $ms ms"; fi
  else
    bad "$mode: daemon ignored SIGTERM for 10 s"; kill -KILL "$dpid"
  fi
  kill "$fake_pid" 2>/dev/null
  wait "$fake_pid" 2>/dev/null
done

# --- secrets --------------------------------------------------------------------------------------
leaks=0
for s in alice-pw fault-Secr3t-pw; do
  if grep -lF -- "$s" "$work"/*.log "$dc/dovecot.log" >"$work/leak" 2>/dev/null; then
    bad "secret '$s' appears in $(tr '\n' ' ' <"$work/leak")"; leaks=1
  fi
done
[ "$leaks" = 0 ] && ok "no password in any log"

finish
