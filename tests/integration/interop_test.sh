#!/usr/bin/env bash
# crm-maild against the scripted server tests/integration/scripted_imap.py behaving like the IMAP
# servers other than Dovecot (issue 21): mail that the EXAMINE before IDLE announces first (Cyrus),
# no [UIDNEXT] in EXAMINE (Courier, with and without STATUS), and the login mechanism chosen from
# what the server offers (LOGIN command without AUTH=PLAIN; no usable mechanism is a config error,
# not needs_reauth; a wrong password still is).
#   interop_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when a tool is missing. CRM_TEST_KEEP=1 keeps
# the temp dir.
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration
for tool in sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
work=$(mktemp -d /tmp/crm-interop.XXXXXX)
# shellcheck source=lib.sh
. "$here/lib.sh"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
printf 'interop-Secr3t\n' >"$work/secret"
chmod 0600 "$work/secret"
q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$@"; }
stored() { q "SELECT count(*) FROM locations"; }
has_stored() { test "$(stored)" = "$1"; }
state() { q "SELECT state || '|' || coalesce(last_error_class, '') || '|' || coalesce(last_error, '') FROM accounts"; }

# start NAME FAST_RETRY SERVER_ARGS...: the scripted server and crm-maild (poll_interval 60 s, so
# only an immediate fetch passes the timing checks); sets $db, $log, $srv, $dpid, $srv_pid.
start() {
  local name=$1 fast=$2
  shift 2
  rm -f "$work/port"
  python3 "$here/scripted_imap.py" "$work/port" "$@" >"$work/$name-server.log" 2>&1 &
  srv_pid=$!
  pids+=("$srv_pid")
  wait_until 10 test -s "$work/port" || bad "$name: scripted server did not start"
  db=$work/$name.db
  log=$work/$name.log
  srv=$work/$name-server.log
  "$ctl" --db "$db" db migrate >/dev/null 2>&1 || bad "$name: db migrate"
  cat >"$work/$name.toml" <<EOT
[database]
path = "$db"

[http]
port = $(free_port)

[[accounts]]
name = "script"
owner_id = 1
address = "fault@example.test"
folders = ["INBOX"]
initial_sync_days = 0
poll_interval = 60

[accounts.imap]
host = "127.0.0.1"
port = $(cat "$work/port")
tls = "none"
allow_insecure = true
username = "script"
password_file = "$work/secret"
EOT
  CRM_TEST_FAST_RETRY=$fast "$maild" --config "$work/$name.toml" >"$log" 2>&1 </dev/null &
  dpid=$!
  pids+=("$dpid")
}
stop() { stop_pid "$dpid"; stop_pid "$srv_pid"; }

# 1. The EXAMINE right before IDLE is the first to announce message 2: fetched at once, not after
#    the 60 s IDLE period.
start pre-idle 0 --messages 1 --add-on-examine 2
t0=$(now_ms)
if wait_until 8 has_stored 2; then
  ok "pre-idle: the message announced by the EXAMINE before IDLE stored after $(($(now_ms) - t0)) ms"
else
  bad "pre-idle: $(stored) of 2 messages stored after 8 s; $(state)"
fi
grep -q "event=news-before-idle" "$log" && ok "pre-idle: logged news-before-idle" ||
  bad "pre-idle: no news-before-idle event"
# Then the daemon idles: no busy loop of EXAMINEs.
sleep 1
n1=$(grep -c " EXAMINE " "$srv")
sleep 2
n2=$(grep -c " EXAMINE " "$srv")
expect_eq "$n2" "$n1" "pre-idle: idling afterwards (no EXAMINE in 2 s)"
stop

# 2. No [UIDNEXT] (Courier): STATUS gives it, or the highest UID + 1 when STATUS fails too. The
#    second pass is incremental and \Seen set on the server reaches the CRM: on UID 1 by the
#    first flag sweep, on UID 2 (after that sweep) at once too, as the FETCH reported in IDLE makes
#    the next pass sweep flags (no CONDSTORE, flag_sweep_interval 15 min).
for variant in status no-status; do
  args=(--messages 2 --no-uidnext)
  [ "$variant" = no-status ] && args+=(--no-status)
  start "no-uidnext-$variant" 0 "${args[@]}"
  wait_until 8 has_stored 2 || bad "no-uidnext-$variant: $(stored) of 2 stored; $(state)"
  expect_eq "$(q "SELECT coalesce(uid_next, 'NULL') FROM mailboxes")" 3 \
    "no-uidnext-$variant: checkpoint UIDNEXT 3 stored"
  seen() { test "$(q "SELECT count(*) FROM locations WHERE uid = $1 AND flags LIKE '%\\Seen%'")" = 1; }
  # IDLE reports only changes made while it runs (RFC 2177): the change is made once the daemon
  # idles again (a change between its pass and its IDLE waits for the next flag sweep, 15 min).
  idling() { tail -n 1 "$srv" | grep -q "IDLE"; }
  for uid in 1 2; do
    wait_until 8 idling || bad "no-uidnext-$variant: not idling before the change on UID $uid"
    kill -USR1 "$srv_pid"
    if wait_until 8 seen "$uid"; then ok "no-uidnext-$variant: \\Seen on UID $uid on the server reached the CRM"
    else bad "no-uidnext-$variant: \\Seen on UID $uid not applied: flags '$(q "SELECT flags FROM locations WHERE uid = $uid")'"; fi
  done
  expect_eq "$(grep -c "event=initial-sync" "$log")" 1 "no-uidnext-$variant: one initial sync, later passes incremental"
  stop
done

# 3. Login mechanisms.
# case; server --auth; want state; want error class (ERE); want text in last_error (ERE)
cases=(
  "login-command;login;idle;^$;^$"
  "no-mechanism;none;error;^net\.mechanism$;LOGINDISABLED.*AUTH=CRAM-MD5|AUTH=CRAM-MD5.*LOGINDISABLED"
  "wrong-password-plain;plain;needs_reauth;^net\.auth$;Authentication failed"
  "wrong-password-login;login;needs_reauth;^net\.auth$;Authentication failed"
)
for c in "${cases[@]}"; do
  IFS=';' read -r name kind want_state want_class want_text <<<"$c"
  pw=interop-Secr3t
  [[ $name == wrong-password-* ]] && pw=other-password
  start "$name" 1 --messages 2 --auth "$kind" --password "$pw"
  settled() {
    local s
    s=$(state)
    [ "${s%%|*}" = "$want_state" ] && { [ "$want_state" != idle ] || [ "$(stored)" = 2 ]; }
  }
  wait_until 10 settled
  s=$(state)
  IFS='|' read -r got_state got_class got_text <<<"$s"
  if [ "$got_state" = "$want_state" ] && [[ $got_class =~ $want_class ]] && [[ $got_text =~ $want_text ]]; then
    ok "$name: $got_state ${got_class:-} ${got_text:0:120}"
  else
    bad "$name: accounts row '$s', want $want_state /$want_class/ /$want_text/"
  fi
  if [ "$kind" = login ]; then
    grep -q " LOGIN \*\*\*" "$srv" && ok "$name: LOGIN command used" || bad "$name: no LOGIN command"
  fi
  stop
done
grep -lF interop-Secr3t "$work"/*.log >/dev/null && bad "the password appears in a log" ||
  ok "no password in any log"
finish
