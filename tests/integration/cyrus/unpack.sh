#!/usr/bin/env bash
# Unpacks Debian's cyrus-imapd and cyrus-common (apt-get download + dpkg -x, never installed:
# they conflict with dovecot-imapd) into /var/cache/crm-mail-test/cyrus-VERSION once, and prints
# that directory. Their shared-library dependencies come from scripts/install-deps.sh.
set -euo pipefail
cache=${CRM_TEST_CACHE:-/var/cache/crm-mail-test}
candidate() { apt-cache policy cyrus-imapd 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
ver=$(candidate)
if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
  # A fresh machine may not have read the package lists yet.
  [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1
  ver=$(candidate)
fi
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "unpack.sh: no cyrus-imapd package known to apt" >&2; exit 1; }
root=$cache/cyrus-$ver
if [ ! -x "$root/usr/lib/cyrus/bin/imapd" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "cyrus-imapd=$ver" "cyrus-common=$ver" >/dev/null 2>&1) ||
    { echo "unpack.sh: apt-get download cyrus-imapd cyrus-common failed" >&2; exit 1; }
  mkdir -p "$tmp/root"
  for d in "$tmp"/*.deb; do dpkg -x "$d" "$tmp/root"; done
  mkdir -p "$cache"
  rm -rf "$root"
  mv "$tmp/root" "$root"
fi
echo "$root"
