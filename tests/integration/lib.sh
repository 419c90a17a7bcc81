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
