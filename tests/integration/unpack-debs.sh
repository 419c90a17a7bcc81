#!/usr/bin/env bash
# Unpacks Debian packages that must not be installed here (apt-get download + dpkg -x) into
# /var/cache/crm-mail-test/NAME-VERSION once (VERSION: the candidate of the first PKG), and
# prints that directory. CHECK, a path inside it, tells an earlier unpack is complete.
#   unpack-debs.sh NAME CHECK PKG...
# Used by cyrus/unpack.sh and courier/unpack.sh; their shared-library dependencies come from
# scripts/install-deps.sh.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 NAME CHECK PKG..." >&2; exit 2; }
name=$1 check=$2
shift 2
cache=${CRM_TEST_CACHE:-/var/cache/crm-mail-test}
candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
known() { [ -n "$1" ] && [ "$1" != "(none)" ]; }
ver=$(candidate "$1")
if ! known "$ver"; then
  # A fresh machine may not have read the package lists yet.
  [ "$(id -u)" -eq 0 ] && apt-get update -qq >/dev/null 2>&1
  ver=$(candidate "$1")
fi
known "$ver" || { echo "unpack-debs.sh: no $1 package known to apt" >&2; exit 1; }
root=$cache/$name-$ver
if [ ! -e "$root/$check" ]; then
  pins=()
  for p in "$@"; do
    v=$(candidate "$p")
    known "$v" || { echo "unpack-debs.sh: no $p package known to apt" >&2; exit 1; }
    pins+=("$p=$v")
  done
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && apt-get download -q "${pins[@]}" >/dev/null 2>&1) ||
    { echo "unpack-debs.sh: apt-get download $* failed" >&2; exit 1; }
  mkdir -p "$tmp/root"
  for d in "$tmp"/*.deb; do dpkg -x "$d" "$tmp/root"; done
  mkdir -p "$cache"
  rm -rf "$root"
  mv "$tmp/root" "$root"
fi
echo "$root"
