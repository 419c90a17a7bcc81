#!/usr/bin/env bash
# Stops the test Postfix started by start.sh DIR and waits until its master (and with it every
# Postfix daemon of this instance) has exited. Queue, config and log under DIR are kept.
# Safe to call when nothing runs.
#   stop.sh DIR
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$(cd "$1" 2>/dev/null && pwd) || { echo "stop.sh: no such directory $1" >&2; exit 1; }

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
# Only signal a pid that really is a Postfix master (the pid file can be stale).
is_master() { # pid
  [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "postfix.*/master\|^master "
}

pidfile=$dir/spool/pid/master.pid
pid=""
[ -s "$pidfile" ] && pid=$(tr -d ' \n' <"$pidfile")
[ -n "$pid" ] && ! is_master "$pid" && pid=""

rc=0
if [ -f "$dir/etc/main.cf" ] && command -v postfix >/dev/null; then
  # `postfix stop` (SIGTERM to master, which stops its children) waits up to ~5s itself.
  postfix -c "$dir/etc" stop >/dev/null 2>&1
fi
if [ -n "$pid" ] && ! wait_gone "$pid" 100; then
  echo "stop.sh: postfix master $pid still running after 10s, killing" >&2
  # the master's children are in its process group (master runs setsid)
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  wait_gone "$pid" 50 || rc=1
fi
rm -f "$pidfile"
[ $rc -eq 0 ] && echo "stop.sh: stopped $dir"
exit $rc
