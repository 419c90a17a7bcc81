#!/usr/bin/env bash
# Stops the Courier started by start.sh DIR: its processes (couriertcpd, imaplogin/imapd,
# couriertls, authdaemond, gam_server), and waits. A process is Courier's only when it is in
# Courier's private mount namespace AND is a courier program (by its command line): a namespace's
# number is reused once the namespace is gone, so the number alone could name a stranger's
# namespace (another test's, a browser sandbox's) on a second call. DIR/env is removed after the
# stop, so a second call does nothing.
#   stop.sh DIR
set -uo pipefail
dir=$1
[ -s "$dir/env" ] || exit 0
ns=$(sed -n 's/^COURIER_MNTNS=//p' "$dir/env")
root=$(sed -n "s/^COURIER_ROOT=//p" "$dir/env")
[ -n "$root" ] || root=/nonexistent/courier-root
[ -n "$ns" ] && [ "$ns" != "$(readlink /proc/self/ns/mnt)" ] || { rm -f "$dir/env"; exit 0; }
members() {
  local p cmd
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
    cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
    case "$cmd" in
      *"$dir"*|*"$root"*|*courier*|*authdaemond*|*imapd*|*gam_server*) echo "${p#/proc/}" ;;
    esac
  done
}
for sig in TERM TERM TERM KILL; do
  pids=$(members)
  [ -z "$pids" ] && break
  # shellcheck disable=SC2086
  kill -"$sig" $pids 2>/dev/null
  for _ in $(seq 1 10); do [ -z "$(members)" ] && break 2; sleep 0.1; done
done
rm -f "$dir/env"
exit 0
