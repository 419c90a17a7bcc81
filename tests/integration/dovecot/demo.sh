#!/usr/bin/env bash
# Demo instance: starts the test Dovecot under DIR (see start.sh for options, layout and ports)
# and seeds the repository's sample mailbox sample/mail/alice into user alice's INBOX (only if
# her INBOX is still empty, so re-running keeps UIDs stable). Prints the env file and its contents.
#   demo.sh DIR [start.sh options...]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
[ $# -ge 1 ] || { echo "usage: $0 DIR [--port-base N] [--users \"u1 u2\"] [--no-oauth2]" >&2; exit 2; }
dir=$1; shift

envfile=$("$here/start.sh" "$dir" "$@")
# shellcheck disable=SC1090
. "$envfile"
count=$($DOVEADM -f flow mailbox status -u alice messages INBOX | sed -n 's/.*messages=\([0-9]*\).*/\1/p')
if [ "${count:-0}" -eq 0 ]; then
  "$here/seed.sh" "$dir" alice "$root/sample/mail/alice" >&2
else
  echo "demo.sh: alice already has $count message(s), not seeding again" >&2
fi
cat >&2 <<EOF2
demo.sh: IMAPS 127.0.0.1:$IMAPS_PORT, IMAP+STARTTLS 127.0.0.1:$IMAP_PORT, login alice / alice-pw,
         CA $CA_FILE; stop with $here/stop.sh $DOVECOT_DIR
EOF2
cat "$envfile" >&2
echo "$envfile"
