#!/usr/bin/env bash
# Stops the Courier started by start.sh DIR: every process in its private mount namespace
# (couriertcpd, imaplogin/imapd, couriertls, authdaemond, gam_server), and waits.
#   stop.sh DIR
set -uo pipefail
dir=$1
[ -s "$dir/env" ] || exit 0
ns=$(sed -n 's/^COURIER_MNTNS=//p' "$dir/env")
[ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] || exit 0
members() {
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"
  done
}
for sig in TERM TERM TERM KILL; do
  pids=$(members)
  [ -z "$pids" ] && exit 0
  # shellcheck disable=SC2086
  kill -"$sig" $pids 2>/dev/null
  for _ in $(seq 1 10); do [ -z "$(members)" ] && exit 0; sleep 0.1; done
done
exit 0
