#!/usr/bin/env bash
# crm-maild refuses to start against a PostgreSQL it cannot use (issue 17): a wrong password and
# an unreachable port each give a clear error naming the URL without its password, exit code 1,
# and READY=1 is never sent to systemd (tests/integration/notify_listener.py stands in for it).
# crm-mailctl workers says the same.
#   refusal_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (no PostgreSQL 15).
set -u
maild=$1
ctl=$2
root=$3
here=$root/tests/integration/postgres
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# shellcheck source=../lib.sh
. "$root/tests/integration/lib.sh"
for tool in python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$PG_BIN/initdb" ] || { echo "SKIP: no PostgreSQL 15 in $PG_BIN"; exit 77; }
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "SKIP: no postgres system user"; exit 77
fi

work=$(mktemp -d /tmp/crm-pgrefusal.XXXXXX)
chmod 0755 "$work"
pgd=$work/pg
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  "$here/pg.sh" stop "$pgd" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$here/pg.sh" start "$pgd" >"$work/pg-start.out" 2>&1; then
  bad "PostgreSQL start: $(tail -5 "$work/pg-start.out")"; finish
fi
pg_port=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' "$pgd/url")
real_pw=$(cat "$pgd/password")
wrong_pw="Wr0ng-refusal-s3cret"
printf '%s\n' "$wrong_pw" >"$work/wrong.pw"
printf 'imap-pw\n' >"$work/imap.pw"
chmod 0600 "$work"/*.pw

config() { # file url password_file
  cat >"$1" <<EOF
[database]
url = "$2"
password_file = "$3"
lease_seconds = 6

[http]
bind = "127.0.0.1"
port = $(free_port)

[[accounts]]
name = "solo"
owner_id = 1
address = "solo@team.example"

[accounts.imap]
host = "127.0.0.1"
port = 9
tls = "none"
allow_insecure = true
username = "solo"
password_file = "$work/imap.pw"
EOF
}

python3 "$root/tests/integration/notify_listener.py" "$work/notify.sock" "$work/notify.log" &
pids+=($!)
wait_until 5 grep -q '^LISTENING$' "$work/notify.log" 2>/dev/null || { bad "notify listener"; finish; }

refused() { # label url password_file: crm-maild exits 1 naming the URL, never READY=1
  local label=$1 url=$2 pwfile=$3 cfg=$work/$1.toml log=$work/$1.log
  config "$cfg" "$url" "$pwfile"
  : >"$work/notify.log"
  NOTIFY_SOCKET=$work/notify.sock CRM_TEST_FAST_RETRY=1 "$maild" --config "$cfg" >"$log" 2>&1 </dev/null &
  local pid=$!
  pids+=("$pid")
  if wait_exit "$pid" 60; then
    expect_eq "$exit_code" 1 "$label: crm-maild exits 1"
  else
    bad "$label: crm-maild still running after 60 s"
    kill -KILL "$pid" 2>/dev/null
  fi
  grep -qF "$url" "$log" && ok "$label: the error names the URL ($url)" ||
    bad "$label: URL not in the error: $(tail -3 "$log")"
  grep -qE "$4" "$log" && ok "$label: the error says what failed (/$4/)" ||
    bad "$label: /$4/ not in: $(tail -3 "$log")"
  if grep -qF -e "$real_pw" -e "$wrong_pw" "$log"; then bad "$label: a password in the log"; else ok "$label: no password in the log"; fi
  sleep 0.3 # a datagram in flight
  if grep -q '^READY=1' "$work/notify.log"; then bad "$label: READY=1 was sent"; else ok "$label: READY=1 never sent"; fi
  # crm-mailctl on the same configuration: exit 1, the same clear error.
  CRM_MAIL_CONFIG=$cfg "$ctl" workers >"$work/$label-ctl.out" 2>&1
  expect_eq "$?" 1 "$label: crm-mailctl workers exits 1"
  grep -qF "$url" "$work/$label-ctl.out" && ! grep -qF -e "$real_pw" -e "$wrong_pw" "$work/$label-ctl.out" &&
    ok "$label: crm-mailctl names the URL, without a password" ||
    bad "$label: crm-mailctl said: $(tail -3 "$work/$label-ctl.out")"
}

url="postgresql://crm_test@127.0.0.1:$pg_port/crm_test"
refused wrong_password "$url" "$work/wrong.pw" "password authentication failed|authentication"
closed=$(free_port)
refused unreachable "postgresql://crm_test@127.0.0.1:$closed/crm_test" "$pgd/password" \
  "Connection refused|could not connect|connection to server"

# The right password: the same daemon starts and says READY=1 (the refusals above were about the
# database, not the config).
config "$work/good.toml" "$url" "$pgd/password"
: >"$work/notify.log"
NOTIFY_SOCKET=$work/notify.sock CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/good.toml" >"$work/good.log" 2>&1 </dev/null &
good=$!
pids+=("$good")
wait_until 30 grep -q '^READY=1' "$work/notify.log" && ok "with the right password: READY=1" ||
  bad "with the right password no READY=1: $(tail -3 "$work/good.log")"
stop_pid "$good"
finish
