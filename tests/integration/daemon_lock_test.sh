#!/usr/bin/env bash
# One syncing crm-maild per database (issue 17), against a real, throwaway Dovecot:
#   - a second crm-maild on the same config, and a third naming the database through a symlinked
#     directory, "." and "..", exit non-zero within seconds naming the first one's PID,
#     without READY=1 and without logging in to the IMAP server;
#   - the first keeps running and syncing; crm-mailctl reads and writes the database meanwhile;
#   - after kill -9 of the first (its lock file left behind), a new one starts and syncs.
#   daemon_lock_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (not root, tool missing).
# CRM_TEST_KEEP=1 keeps the temp dir.
set -u
maild=$1
ctl=$2
root=$3
dcs=$root/tests/integration/dovecot

# shellcheck source=lib.sh
. "$root/tests/integration/lib.sh"
need_root_and dovecot doveadm sqlite3 python3 openssl

work=$(mktemp -d /tmp/crm-locktest.XXXXXX)
chmod 0755 "$work" # the dovecot mail uid must traverse it
dc=$work/dc
pids=()
log_tail=20

trap cleanup_dovecot_test EXIT
trap 'exit 130' INT TERM

if ! envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc-start.err"); then
  bad "dovecot start: $(cat "$work/dc-start.err")"; finish
fi
# shellcheck disable=SC1090
. "$envfile"
"$dcs/seed.sh" "$dc" alice "$root/sample/mail/alice" >"$work/seed.out" 2>&1 || bad "seed alice"

# A new message in alice's INBOX (unique Message-ID).
deliver() {
  printf 'From: bob@example.test\r\nTo: alice@example.test\r\nSubject: lock test %s\r\nMessage-ID: <%s@locktest>\r\nDate: %s\r\n\r\nhello %s\r\n' \
    "$1" "$1" "$(date -R)" "$1" | $DOVEADM save -u alice -m INBOX || bad "doveadm save $1"
}

db_dir=$work/data
mkdir -p "$db_dir" "$work/elsewhere"
ln -s "$db_dir" "$work/link"
db=$db_dir/crm.db
q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$@"; }
"$ctl" --db "$db" db migrate >/dev/null 2>>"$work/ctl.err" &&
  "$ctl" --db "$db" crm import users "$root/sample/crm/users.csv" >/dev/null 2>>"$work/ctl.err" ||
  bad "crm-mailctl could not prepare $db: $(tail -3 "$work/ctl.err")"

config() { # db_path http_port accounts...
  local user
  cat <<EOF
[database]
path = "$1"

[daemon]
log_level = "debug"

[http]
port = $2
EOF
  for user in "${@:3}"; do
    printf '%s-pw\n' "$user" >"$work/$user.pw"
    chmod 0600 "$work/$user.pw"
    cat <<EOF

[[accounts]]
name = "$user"
owner_id = 1
address = "$user@example.test"
poll_interval = 10
initial_sync_days = 0

[accounts.imap]
host = "127.0.0.1"
port = $IMAP_PORT
tls = "none"
allow_insecure = true
username = "$user"
password_file = "$work/$user.pw"
EOF
  done
}
cfg=$work/crm-mail.toml
config "$db" "$(free_port)" alice >"$cfg"
# The same database through "..", "." and a symlinked directory, with one more account (bob, whom
# nothing else logs in as: a refused daemon must not log in).
cfg_alias=$work/alias.toml
config "$work/elsewhere/../link/./crm.db" "$(free_port)" alice bob >"$cfg_alias"

server_count() { $DOVEADM search -u alice mailbox INBOX all | wc -l; }
loc_count() {
  q "SELECT count(*) FROM locations l JOIN mailboxes b ON b.id = l.mailbox_id
     JOIN accounts a ON a.id = l.account_id WHERE a.name = 'alice' AND b.name = 'INBOX'"
}
synced() { [ "$(q "SELECT state FROM accounts WHERE name = 'alice'")" = idle ] && [ "$(loc_count)" = "$(server_count)" ]; }
logins() { grep -c "imap-login: .*Login: user=<$1>" "$DOVECOT_DIR/dovecot.log"; }
bob_logged_in() { [ "$(logins bob)" -gt 0 ]; }
start() { # config log: starts crm-maild, sets started_pid
  env CRM_TEST_FAST_RETRY=1 NOTIFY_SOCKET="$work/notify.sock" \
    "$maild" --config "$1" >>"$2" 2>&1 </dev/null &
  started_pid=$!
  pids+=("$started_pid")
}

python3 "$root/tests/integration/notify_listener.py" "$work/notify.sock" "$work/notify.log" &
pids+=($!)
wait_until 5 grep -qs "^LISTENING$" "$work/notify.log" || bad "notify listener did not start"

# --- the first daemon -----------------------------------------------------------------------------
start "$cfg" "$work/first.log"
first=$started_pid
if wait_until 60 synced; then ok "first daemon (pid $first) synced alice ($(loc_count) messages)"
else bad "first daemon did not sync: $(q "SELECT state, last_error FROM accounts")"; fi
wait_until 10 grep -q '^READY=1' "$work/notify.log" && ok "first daemon sent READY=1" ||
  bad "first daemon sent no READY=1"
lock=$db.daemon.lock
grep -qx "pid=$first" "$lock" && ok "the lock file records the first daemon's pid" ||
  bad "lock file: $(cat "$lock" 2>&1)"

# --- a second and a third daemon on the same database are refused ---------------------------------
refused() { # what config
  local what=$1 cfg=$2 log=$work/$1.log ready_before t0
  ready_before=$(grep -c '^READY=1' "$work/notify.log")
  t0=$(now_ms)
  start "$cfg" "$log"
  if ! wait_exit "$started_pid" 5; then
    bad "$what: still running after 5 s"; stop_pid "$started_pid"; return
  fi
  [ "$exit_code" -ne 0 ] && ok "$what: exit code $exit_code after $(($(now_ms) - t0)) ms" ||
    bad "$what: exit code 0"
  if grep -q "database $db is already synced by crm-maild pid $first on host $(hostname) since .* (lock file $lock)" "$log"; then
    ok "$what: names the first daemon's pid $first"
  else
    bad "$what: message: $(cat "$log")"
  fi
  expect_eq "$(grep -c '^READY=1' "$work/notify.log")" "$ready_before" "$what: no READY=1"
  ! grep -q 'account=' "$log" && ok "$what: touched no account" || bad "$what: logged account work"
}
refused second "$cfg"
refused third "$cfg_alias"
expect_eq "$(logins bob)" 0 "the third daemon did not log in to the IMAP server as bob"
cat "$work/second.log"

# --- the first keeps syncing; crm-mailctl works alongside it ---------------------------------------
alive "$first" && ok "the first daemon is still running" || bad "the first daemon died"
grep -qx "pid=$first" "$lock" && ok "the refused daemons left the lock file alone" ||
  bad "lock file after the refusals: $(cat "$lock" 2>&1)"
deliver one
if wait_until 30 synced; then ok "the first daemon synced new mail after the refusals"
else bad "new mail not synced: db $(loc_count), server $(server_count)"; fi
"$ctl" --db "$db" accounts status >"$work/ctl.out" 2>&1 && grep -q alice "$work/ctl.out" &&
  ok "crm-mailctl accounts status while the daemon runs" || bad "crm-mailctl accounts status: $(cat "$work/ctl.out")"
"$ctl" --db "$db" crm import users "$root/sample/crm/users.csv" >"$work/ctl.out" 2>&1 &&
  ok "crm-mailctl crm import (a write) while the daemon runs" || bad "crm-mailctl crm import: $(cat "$work/ctl.out")"
"$ctl" --db "$db" db migrate >"$work/ctl.out" 2>&1 &&
  ok "crm-mailctl db migrate while the daemon runs" || bad "crm-mailctl db migrate: $(cat "$work/ctl.out")"

# --- kill -9: the kernel releases the lock; the stale file does not block the next daemon ---------
kill -KILL "$first"
wait_exit "$first" 10 || bad "the first daemon survived SIGKILL"
grep -qx "pid=$first" "$lock" && ok "the killed daemon's lock file is left behind" ||
  bad "lock file after SIGKILL: $(cat "$lock" 2>&1)"
deliver two
start "$cfg_alias" "$work/next.log"
next=$started_pid
if wait_until 30 synced; then ok "a new daemon (through the other path) starts and syncs after kill -9"
else bad "the new daemon did not sync: $(tail -5 "$work/next.log")"; fi
wait_until 15 bob_logged_in && ok "the new daemon logs in as bob" ||
  bad "the new daemon never logged in as bob (is the login check blind?)"
alive "$next" && ok "the new daemon runs" || bad "the new daemon exited: $(tail -5 "$work/next.log")"
grep -qx "pid=$next" "$lock" && ok "the lock file now records the new daemon" ||
  bad "lock file: $(cat "$lock" 2>&1)"
kill -TERM "$next"
wait_exit "$next" 15 || bad "the new daemon did not stop on SIGTERM"
expect_eq "$exit_code" 0 "the new daemon exits 0 on SIGTERM"

# --- the lock is released at a clean exit too ------------------------------------------------------
start "$cfg" "$work/last.log"
last=$started_pid
wait_until 15 grep -q 'event=start' "$work/last.log" && sleep 1
alive "$last" && ok "a daemon starts after a clean stop" || bad "after a clean stop: $(tail -5 "$work/last.log")"
stop_pid "$last"

finish
