#!/usr/bin/env bash
# Stops the Cyrus started by start.sh DIR (its master and, with it, the services) and waits.
#   stop.sh DIR
set -uo pipefail
dir=$1
[ -s "$dir/env" ] || exit 0
pid=$(sed -n 's/^CYRUS_PID=//p' "$dir/env")
is_master() { [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q -- "cyrus/bin/master -C $dir/"; }
if [ -n "$pid" ] && is_master "$pid"; then
  kill -TERM "$pid"
  for _ in $(seq 1 50); do is_master "$pid" || break; sleep 0.1; done
  is_master "$pid" && kill -KILL "$pid"
fi
# Services left behind by a killed master (children of it, running imapd -C DIR/imapd.conf).
for p in $(pgrep -f -- "cyrus/bin/imapd .*-C $dir/imapd.conf" || true); do kill -KILL "$p" 2>/dev/null; done
exit 0
