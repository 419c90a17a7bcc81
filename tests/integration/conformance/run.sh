#!/usr/bin/env bash
# The IMAP conformance suite (issue 21): the same scenarios against each real server, each
# started here on 127.0.0.1 with a throwaway config: Dovecot (installed), Cyrus and Courier
# (Debian's packages, unpacked: tests/integration/cyrus, tests/integration/courier). Per server,
# with one account "conf":
#   1. full sync of $CONF_MESSAGES messages APPENDed beforehand (implicit TLS, verified against
#      the test CA);
#   2. new mail in bursts of 3 back-to-back APPENDs while the daemon goes in and out of IDLE:
#      every burst must be stored within 2 s (the misses are counted and printed);
#   3. \Seen and expunge while the daemon runs;
#   4. \Seen, expunge and new mail while it is stopped, then a restart over STARTTLS;
#   5. the plain-text login (tls = none, allow_insecure, loopback; on Courier the LOGIN command, as
#      it offers AUTH=PLAIN only after STARTTLS), and on Cyrus's and Courier's ports that refuse
#      plain-text logins: a config error naming what the server offers, not needs_reauth.
# After 1-4 the server's UIDs and \Seen flags must equal the CRM's, without duplicates.
#   run.sh CRM_MAILD CRM_MAILCTL REPO_ROOT [SERVER...]   (default: dovecot cyrus courier)
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (not root, no Dovecot)
# and when Courier's packages cannot be downloaded (a "SKIP: courier" line says so).
# CONF_MESSAGES (default 300) and CONF_BURSTS (default 10) size it; CRM_TEST_KEEP=1 keeps the
# temp dir.
set -u
maild=$1
ctl=$2
root=$3
shift 3
servers=("$@")
[ ${#servers[@]} -eq 0 ] && servers=(dovecot cyrus courier)
here=$root/tests/integration
ops=$here/conformance/imap_ops.py
messages=${CONF_MESSAGES:-300}
bursts=${CONF_BURSTS:-10}

for tool in dovecot sqlite3 python3 openssl; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run the test servers"; exit 77; }

work=$(mktemp -d /tmp/crm-conformance.XXXXXX)
chmod 0755 "$work"
# shellcheck source=../lib.sh
. "$here/lib.sh"
dpid=""
skipped=""
cleanup() {
  [ -n "$dpid" ] && kill -KILL "$dpid" 2>/dev/null
  for s in cyrus courier; do
    [ -e "$work/$s" ] || continue
    "$here/$s/stop.sh" "$(readlink -f "$work/$s")" >/dev/null 2>&1
    [ -L "$work/$s" ] && rm -rf "$(readlink -f "$work/$s")"
  done
  "$here/dovecot/stop.sh" "$work/dovecot" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
printf 'conf-pw\n' >"$work/secret"
chmod 0600 "$work/secret"

# Dovecot always runs: its test CA signs the certificate every server presents.
if ! denv=$("$here/dovecot/start.sh" "$work/dovecot" --no-oauth2 --users conf 2>"$work/dovecot-start.err"); then
  bad "dovecot start: $(tail -3 "$work/dovecot-start.err")"; finish
fi
CA_FILE=$(sed -n "s/^CA_FILE=//p" "$denv" | tr -d "'\"")

q() { sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$@"; }
inbox_where="l.mailbox_id = (SELECT id FROM mailboxes WHERE upper(name) = 'INBOX')"
stored() { q "SELECT count(*) FROM locations l WHERE $inbox_where"; }
has_stored() { test "$(stored)" = "$1"; }
acct() { q "SELECT state || '|' || coalesce(last_error_class, '') || '|' || coalesce(last_error, '') FROM accounts"; }
op() { python3 "$ops" "$plain_port" conf conf-pw "$@"; }
# The server's INBOX and the CRM's, as "UID SEEN" lines.
server_state() { op state | sort -n; }
crm_state() {
  q "SELECT l.uid, CASE WHEN l.flags LIKE '%\\Seen%' THEN 1 ELSE 0 END FROM locations l
     WHERE $inbox_where ORDER BY l.uid" | tr '|' ' '
}

# run_daemon TLS PORT [EXTRA]: crm-maild on the conf account (default folders: INBOX and Sent).
run_daemon() {
  local tls=$1 port=$2 extra=${3:-}
  [ "$tls" != none ] && extra="ca_file = \"$CA_FILE\""
  cat >"$work/$srvname.toml" <<EOF
[database]
path = "$db"

[http]
port = $(free_port)

[[accounts]]
name = "conf"
owner_id = 1
address = "conf@example.test"
initial_sync_days = 0

[accounts.imap]
host = "127.0.0.1"
port = $port
tls = "$tls"
$extra
username = "conf"
password_file = "$work/secret"
EOF
  "$maild" --config "$work/$srvname.toml" >>"$log" 2>&1 </dev/null &
  dpid=$!
}
stop_daemon() { stop_pid "$dpid"; dpid=""; }
idle_with() { [ "$(acct | cut -d'|' -f1)" = idle ] && [ "$(stored)" = "$1" ]; }
same_state() { [ "$(server_state)" = "$(crm_state)" ]; }
# start_unpacked NAME: NAME/start.sh (a server run from its unpacked package) in a directory on
# tmpfs where there is one (Cyrus fsyncs every APPEND), linked as $work/NAME; sets senv to its env
# file. Returns start.sh's status (77: the package cannot be had), its stderr in $work/NAME-start.err.
start_unpacked() {
  local name=$1 sdir=$work/$1
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    sdir=$(mktemp -d "/dev/shm/crm-$name.XXXXXX")
    ln -s "$sdir" "$work/$name"
  fi
  senv=$("$here/$name/start.sh" "$sdir" "$work/dovecot/tls/server.crt" "$work/dovecot/tls/server.key" \
           conf 2>"$work/$name-start.err")
}
check_same() { # description
  if wait_until 20 same_state; then ok "$srvname: $1: UIDs and \\Seen equal the server's ($(stored) messages)"
  else
    bad "$srvname: $1: CRM differs from the server: $(diff <(server_state) <(crm_state) | head -5 | tr '\n' ' ')"
  fi
}

for srvname in "${servers[@]}"; do
  db=$work/$srvname.db
  log=$work/$srvname-daemon.log
  case $srvname in
    dovecot)
      # shellcheck disable=SC1090
      . "$denv"
      implicit_port=$IMAPS_PORT starttls_port=$IMAP_PORT plain_port=$IMAP_PORT strict_port=""
      ;;
    cyrus | courier)
      start_unpacked "$srvname"
      rc=$?
      if [ "$rc" -eq 77 ] && [ "$srvname" = courier ]; then
        skipped+="$srvname: $(tail -1 "$work/$srvname-start.err"); "
        echo "SKIP: $srvname: $(tail -1 "$work/$srvname-start.err")"
        continue
      fi
      [ "$rc" -eq 0 ] || { bad "$srvname start: $(tail -3 "$work/$srvname-start.err")"; continue; }
      # shellcheck disable=SC1090
      . "$senv"
      implicit_port=$IMAPS_PORT starttls_port=$STRICT_PORT plain_port=$IMAP_PORT strict_port=$STRICT_PORT
      ;;
    *) bad "unknown server $srvname"; continue ;;
  esac
  "$ctl" --db "$db" db migrate >/dev/null 2>&1 || bad "$srvname: db migrate"

  # 1. Full sync over implicit TLS.
  t0=$(now_ms)
  op append "$messages" initial || bad "$srvname: APPEND of $messages messages failed"
  t1=$(now_ms)
  run_daemon implicit "$implicit_port"
  if wait_until 60 idle_with "$messages"; then
    ok "$srvname: full sync of $messages messages over implicit TLS in $(($(now_ms) - t1)) ms (APPEND took $((t1 - t0)) ms)"
  else
    bad "$srvname: full sync: $(stored) of $messages stored; $(acct)"
  fi

  # 2. Bursts while the daemon goes in and out of IDLE.
  want=$messages
  missed=0
  worst=0
  for ((b = 1; b <= bursts; b++)); do
    op append 3 "burst$b"
    want=$((want + 3))
    tb=$(now_ms)
    if ! wait_until 2 has_stored "$want"; then
      missed=$((missed + 1))
      wait_until 30 has_stored "$want" # go on from a consistent state
    fi
    took=$(($(now_ms) - tb))
    [ "$took" -gt "$worst" ] && worst=$took
  done
  expect_eq "$missed" 0 "$srvname: $bursts bursts of 3 APPENDs, each stored within 2 s (slowest $worst ms)"

  # 3. \Seen and expunge while running.
  op seen 1 2 3 4 5
  op expunge 6 7
  check_same "\\Seen on 5 and expunge of 2 while running"

  # 4. While stopped, then a restart over STARTTLS.
  stop_daemon
  op seen 8 9
  op expunge 10
  op append 4 stopped
  run_daemon starttls "$starttls_port"
  check_same "\\Seen, expunge and 4 new messages while stopped, restarted over STARTTLS"
  expect_eq "$(q "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY message_id HAVING count(*) > 1)")" 0 \
    "$srvname: no duplicate messages"
  stop_daemon

  # 5. Plain-text login on loopback.
  run_daemon none "$plain_port" "allow_insecure = true"
  op append 1 plain
  if wait_until 10 idle_with "$(op state | wc -l)"; then ok "$srvname: plain-text login on loopback, new mail stored"
  else bad "$srvname: plain-text login: $(acct)"; fi
  stop_daemon
  if [ -n "$strict_port" ]; then
    run_daemon none "$strict_port" "allow_insecure = true"
    refused() { [[ $(acct) =~ ^error\|net\.mechanism\|.*LOGINDISABLED.*STARTTLS ]]; }
    if wait_until 10 refused; then ok "$srvname: no plain-text login offered: $(acct | cut -d'|' -f1,2) ($(acct | cut -d'|' -f3 | cut -c1-150))"
    else bad "$srvname: port refusing plain-text login: $(acct)"; fi
    stop_daemon
  fi
  grep -E "event=(crash|error)" "$log" | grep -v "net.mechanism" | head -3 >"$work/$srvname-errors"
  if [ -s "$work/$srvname-errors" ]; then bad "$srvname: errors logged: $(cat "$work/$srvname-errors")"
  else ok "$srvname: no error or crash logged"; fi
done
grep -lF conf-pw "$work"/*.log >/dev/null 2>&1 && bad "the password appears in a log" || ok "no password in any log"
if [ -n "$skipped" ] && [ "$failn" -eq 0 ]; then
  echo "$pass passed, 0 failed, skipped: $skipped"
  exit 77
fi
finish
