#!/usr/bin/env bash
# Stops the test Dovecot started by start.sh DIR (and its oauth2 introspection endpoint) and
# waits until the master process has exited. Mail, config and logs under DIR are kept; a
# /tmp/dc.XXXXXX base_dir made for a long DIR is removed. Safe to call when nothing runs.
#   stop.sh DIR
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" 2>/dev/null && pwd) || { echo "stop.sh: no such directory $1" >&2; exit 1; }

base_dir=$dir/run
[ -L "$base_dir" ] && base_dir=$(readlink "$base_dir")

wait_gone() { # pid timeout_tenths
  local i
  for ((i = 0; i < $2; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    # exited but not yet reaped (a container's pid 1 may reap slowly): a zombie counts as gone
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ] && return 0
    sleep 0.1
  done
  return 1
}

# Only signal a pid that really is that dovecot master / our python endpoint (pid files can be stale).
is_cmd() { # pid pattern
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "$2"
}

rc=0
if [ -s "$base_dir/master.pid" ]; then
  pid=$(cat "$base_dir/master.pid")
  if is_cmd "$pid" "dovecot"; then
    kill -TERM "$pid" 2>/dev/null
    if ! wait_gone "$pid" 100; then
      echo "stop.sh: dovecot $pid ignored SIGTERM for 10s, killing" >&2
      kill -KILL "$pid" 2>/dev/null
      wait_gone "$pid" 50 || rc=1
    fi
  fi
  rm -f "$base_dir/master.pid"
fi
if [ -s "$dir/oauth2.pid" ]; then
  pid=$(cat "$dir/oauth2.pid")
  if is_cmd "$pid" "oauth2_introspect.py"; then
    kill -TERM "$pid" 2>/dev/null
    wait_gone "$pid" 50 || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$dir/oauth2.pid"
fi
if [ -L "$dir/run" ]; then
  case $base_dir in /tmp/dc.*) rm -rf "$base_dir" ;; esac
  rm -f "$dir/run"
fi
[ $rc -eq 0 ] && echo "stop.sh: stopped $dir"
exit $rc
