# Helpers shared by the integration scripts that source it: counters and checks, waits, process
# state. The sourcing script sets $work (its temp dir; the last ${log_tail:-15} lines of its *.log
# files are shown on failure).
pass=0
failn=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_eq() { # got want description
  if [ "$1" = "$2" ]; then ok "$3"; else bad "$3: got '$1', want '$2'"; fi
}
# Prints "N passed, M failed" (with the tails of the logs on failure) and exits 1 on failure.
finish() {
  if [ "$failn" -gt 0 ]; then
    for f in "$work"/*.log; do
      [ -f "$f" ] || continue
      echo "--- tail of $f"; tail -n "${log_tail:-15}" "$f"
    done
  fi
  echo "$pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit $?
}
now_ms() { date +%s%3N; }
wait_until() { # timeout_s command...: polls every 0.2 s
  local end=$(($(now_ms) + $1 * 1000)); shift
  while :; do
    "$@" && return 0
    [ "$(now_ms)" -ge "$end" ] && return 1
    sleep 0.2
  done
}
gone() { ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
alive() { ! gone "$1"; }
# SIGTERM, then waits up to 10 s (SIGKILL after that).
stop_pid() {
  kill -TERM "$1" 2>/dev/null
  wait_until 10 gone "$1" || kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
# A TCP port free on 127.0.0.1 now (for [http] port, so daemons of parallel tests do not collide).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# For the scripts that run crm-maild against the test Dovecot (tests/integration/dovecot), which
# needs root: exits 77 (skip) unless every TOOL is installed and we are root.
need_root_and() { # tool...
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
  done
  [ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run the test dovecot"; exit 77; }
}
# Their EXIT trap: SIGKILLs what is left of $pids, stops the Dovecot started in $dc (its stop.sh
# under $dcs) and removes $work (kept with CRM_TEST_KEEP=1).
cleanup_dovecot_test() {
  local p
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
  done
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
exit_code=""
wait_exit() { # pid timeout_s: sets exit_code, returns 1 on timeout
  exit_code=""
  wait_until "$2" gone "$1" || return 1
  wait "$1" 2>/dev/null # no "Killed" job notice
  exit_code=$?
}

# For scripts that run servers and daemons of their own (no Dovecot): makes $work
# (/tmp/crm-NAME.XXXXXX) and $pids; on exit SIGKILLs what is left of $pids and removes $work
# (kept with CRM_TEST_KEEP=1).
start_work() { # name
  work=$(mktemp -d "/tmp/crm-$1.XXXXXX")
  pids=()
  trap cleanup_work EXIT
  trap 'exit 130' INT TERM
}
cleanup_work() {
  local p
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null; done
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
