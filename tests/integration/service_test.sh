#!/usr/bin/env bash
# crm-maild as a systemd service, without systemd: a stand-in notification socket records the
# sd_notify protocol (READY=1 after start-up, WATCHDOG=1 pings at WATCHDOG_USEC/2, RELOADING=1 and
# READY=1 around SIGHUP, STOPPING=1 on SIGTERM, then a clean exit; WATCHDOG=1 withheld while HTTP
# cannot accept connections for longer than the bound), and the secret of an account
# (one account's server is unreachable, another's logs in) never appears in the log, which is
# at debug level.
# Usage: service_test.sh CRM_MAILD SOURCE_DIR
set -u
maild=$1
root=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "${KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
pass=0
failn=0
ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
wait_for() { # pattern file seconds description
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qE -- "$1" "$2" 2>/dev/null && { ok; return 0; }
    sleep 0.1
  done
  bad "$4: /$1/ not in $2 after $3 s: $(tail -c 800 "$2" 2>/dev/null)"
  return 1
}
count() { grep -cE -- "$1" "$2" 2>/dev/null || true; }

secret='Kn0wn-S3cret-Value-4711'
printf '%s\n' "$secret" >"$work/secret"
chmod 600 "$work/secret"

# A server that logs anyone in (so the secret really goes over the wire) ...
python3 "$root/tests/integration/fake_imap.py" ok "$work/port" >"$work/fake.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 50; i++)); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port" 2>/dev/null)
[ -n "$port" ] || { bad "fake IMAP server did not start"; exit 1; }
# ... and a port nothing listens on.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$work/crm-mail.toml" <<TOML
[database]
path = "$work/crm.db"

[http]
port = $http_port

[daemon]
log_level = "debug"

[[accounts]]
name = "unreachable"
owner_id = 1
address = "u@example.com"

[accounts.imap]
host = "127.0.0.1"
port = $closed
tls = "none"
allow_insecure = true
username = "u@example.com"
password_file = "$work/secret"

[[accounts]]
name = "reachable"
owner_id = 1
address = "r@example.com"

[accounts.imap]
host = "127.0.0.1"
port = $port
tls = "none"
allow_insecure = true
username = "r@example.com"
password_file = "$work/secret"
TOML

python3 "$root/tests/integration/notify_listener.py" "$work/notify.sock" "$work/notify.log" &
pids+=($!)
wait_for '^LISTENING$' "$work/notify.log" 5 "notify listener" || exit 1

NOTIFY_SOCKET=$work/notify.sock WATCHDOG_USEC=400000 CRM_TEST_FAST_RETRY=1 \
  "$maild" --config "$work/crm-mail.toml" 2>"$work/log" &
daemon=$!
pids+=("$daemon")

wait_for '^READY=1$' "$work/notify.log" 10 "READY=1 after start-up"
# READY=1 comes after the migrations: the schema is there when systemd is told.
wait_for 'account=unreachable .*cannot connect' "$work/log" 15 "the unreachable account fails with a TCP error"
wait_for 'account=reachable ' "$work/log" 15 "the reachable account syncs"
sleep 1
n=$(count '^WATCHDOG=1$' "$work/notify.log")
if [ "$n" -ge 3 ]; then ok; else bad "only $n WATCHDOG=1 pings in ~1 s with WATCHDOG_USEC=400000"; fi

# HTTP out of file descriptors (the daemon's limit lowered to its lowest free descriptor
# number, connections waiting in the listen queue) for longer than the bound, 2 s with
# CRM_TEST_FAST_RETRY=1: the daemon stops pinging so that systemd restarts it; pings resume once
# it accepts again.
nofile=$(prlimit --pid "$daemon" --nofile --raw --noheadings --output=SOFT)
free=0
while [ -L "/proc/$daemon/fd/$free" ]; do free=$((free + 1)); done
prlimit --pid "$daemon" --nofile="$free:"
python3 -c 'import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(20)]
time.sleep(120)' "$http_port" &
holder=$!
pids+=("$holder")
wait_for 'cannot accept connections: Too many open files' "$work/log" 5 "accept failure logged"
wait_for 'WATCHDOG=1 withheld' "$work/log" 10 "watchdog withheld while HTTP cannot accept"
prlimit --pid "$daemon" --nofile="$nofile:"
kill "$holder"
wait_for 'accepting connections again' "$work/log" 5 "HTTP accepts again"
n=$(count '^WATCHDOG=1$' "$work/notify.log")
sleep 1
if [ "$(count '^WATCHDOG=1$' "$work/notify.log")" -ge $((n + 3)) ]; then ok; else bad "no WATCHDOG=1 pings after HTTP recovered"; fi
n=$(count 'cannot accept connections' "$work/log")
if [ "$n" -eq 1 ]; then ok; else bad "accept failure logged $n times, want once"; fi

kill -HUP "$daemon"
wait_for '^RELOADING=1$' "$work/notify.log" 5 "RELOADING=1 on SIGHUP"
wait_for 'event=reload' "$work/log" 5 "reload logged"
for ((i = 0; i < 50; i++)); do [ "$(count '^READY=1$' "$work/notify.log")" -ge 2 ] && break; sleep 0.1; done
if [ "$(count '^READY=1$' "$work/notify.log")" -ge 2 ]; then ok; else bad "no READY=1 after the reload"; fi

kill -TERM "$daemon"
wait_for '^STOPPING=1$' "$work/notify.log" 5 "STOPPING=1 on SIGTERM"
rc=0
for ((i = 0; i < 150; i++)); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$daemon" 2>/dev/null; then bad "crm-maild still running 15 s after SIGTERM"; else
  wait "$daemon"; rc=$?
  if [ "$rc" -eq 0 ]; then ok; else bad "crm-maild exit $rc after SIGTERM"; fi
fi
wait_for 'event=stop' "$work/log" 1 "clean stop logged"

# The secret: never in the log or the notifications; the log did mention the secret's file.
if grep -qF -- "$secret" "$work/log" "$work/notify.log"; then
  bad "the secret appears in the log: $(grep -F -- "$secret" "$work/log" "$work/notify.log" | head -3)"
else ok; fi
# (The assertion above can fail: the same grep finds it in the config's secret file.)
if grep -qF -- "$secret" "$work/secret"; then ok; else bad "grep self-check"; fi
lines=$(wc -l <"$work/log")
if [ "$lines" -ge 5 ]; then ok; else bad "suspiciously short log ($lines lines)"; fi

echo "service_test: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
