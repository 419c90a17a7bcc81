#!/usr/bin/env bash
# The systemd unit: `systemd-analyze verify` passes (on a copy whose ExecStart is the built
# binary: verify insists the binary exists), the directives the service relies on are present,
# and `systemd-analyze security --offline=true` rates it at most MAX_EXPOSURE.
# Usage: systemd_test.sh CRM_MAILD SOURCE_DIR
set -u
maild=$(realpath "$1")
root=$2
unit=$root/systemd/crm-maild.service
# The exposure the unit reaches today (README, "Deploying"); raise it only with a reason.
MAX_EXPOSURE=1.1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
failn=0
ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }

command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing (apt-get install systemd)"; exit 1; }

# verify: a copy with ExecStart pointing at the build
mkdir -p "$work/units"
sed "s|^ExecStart=/usr/bin/crm-maild |ExecStart=$maild |" "$unit" >"$work/units/crm-maild.service"
if grep -q "^ExecStart=$maild " "$work/units/crm-maild.service"; then ok; else bad "ExecStart not rewritten"; fi
if systemd-analyze verify "$work/units/crm-maild.service" >"$work/verify" 2>&1; then ok
else bad "systemd-analyze verify: $(cat "$work/verify")"; fi
# verify must be able to fail: the same unit with a binary that does not exist
sed "s|^ExecStart=/usr/bin/crm-maild |ExecStart=$work/nope |" "$unit" >"$work/units/crm-maild.service"
if systemd-analyze verify "$work/units/crm-maild.service" >/dev/null 2>&1; then
  bad "verify accepted a missing ExecStart binary"
else ok; fi

# The directives the daemon and the package rely on.
for d in 'Type=notify' 'WatchdogSec=' 'Restart=on-failure' 'User=crm-mail' \
         'StateDirectory=crm-mail' 'ConfigurationDirectory=crm-mail' 'LogsDirectory=crm-mail' \
         'ExecReload=/bin/kill -HUP \$MAINPID' 'ExecStart=/usr/bin/crm-maild --config /etc/crm-mail/crm-mail.toml' \
         'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
         'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
         'ProtectKernelLogs=yes' 'ProtectControlGroups=yes' \
         'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' 'RestrictNamespaces=yes' \
         'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' 'SystemCallArchitectures=native' \
         'SystemCallFilter=@system-service' 'CapabilityBoundingSet=$' 'UMask=0077' \
         'LimitNOFILE=[0-9]+$'; do
  if grep -qE "^$d" "$unit"; then ok; else bad "unit lacks $d"; fi
done

# security: parse "→ Overall exposure level for crm-maild.service: 1.1 OK 🙂"
systemd-analyze security --offline=true --no-pager "$unit" >"$work/security" 2>&1
score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1/p' "$work/security")
rating=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\2/p' "$work/security")
if [ -z "$score" ]; then
  bad "no exposure score in: $(tail -3 "$work/security")"
else
  echo "exposure: $score $rating (max $MAX_EXPOSURE)"
  if awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then ok
  else bad "exposure $score > $MAX_EXPOSURE"; fi
  case $rating in OK) ok ;; *) bad "rating $rating, want OK" ;; esac
fi
# The score parser must see a worse unit as worse: drop the hardening.
grep -vE '^(Protect|Private|Restrict|SystemCall|Capability|NoNewPriv|Memory|Lock|UMask|Remove|Keyring|Device|ProcSubset|User=|Group=)' \
  "$unit" >"$work/units/weak.service"
weak=$(systemd-analyze security --offline=true --no-pager "$work/units/weak.service" 2>&1 |
  sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$weak" ] && awk -v s="$weak" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s > m) }'; then ok
else bad "unhardened copy scored '$weak', not above $MAX_EXPOSURE"; fi

echo "systemd_test: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
