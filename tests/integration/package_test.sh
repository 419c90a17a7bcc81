#!/usr/bin/env bash
# The Debian package: cpack builds it from the build tree; its control data (dpkg-deb -I/-e)
# has the dependencies, the conffile and maintainer scripts that create the crm-mail user and
# start nothing; `dpkg -x` into a scratch root shows the install layout, the binaries run and the
# unit verifies against the packaged binary. Also `cmake --install` with DESTDIR.
# Usage: package_test.sh BUILD_DIR SOURCE_DIR
set -u
build=$(realpath "$1")
src=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=0
failn=0
ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_file() { if [ -f "$1" ]; then ok; else bad "missing $1"; fi; }
expect_grep() { # pattern file description
  if grep -qE -- "$1" "$2"; then ok; else bad "$3: /$1/ not in $2: $(head -c 600 "$2")"; fi
}
expect_no_grep() {
  if grep -qE -- "$1" "$2"; then bad "$3: /$1/ found in $2"; else ok; fi
}

for tool in cpack dpkg-deb dpkg-shlibdeps; do
  command -v "$tool" >/dev/null || { echo "$tool missing (scripts/install-deps.sh)"; exit 1; }
done

# Build the .deb from the build tree (packages go to a scratch directory).
if (cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1); then ok
else bad "cpack failed: $(tail -20 "$work/cpack.log")"; fi
deb=$(ls "$work"/pkg/crm-mail_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { bad "no .deb in $work/pkg"; echo "package_test: $pass passed, $failn failed"; exit 1; }

# Control data.
dpkg-deb -I "$deb" >"$work/info"
expect_grep '^ Package: crm-mail$' "$work/info" "package name"
expect_grep '^ Depends: .*adduser' "$work/info" "depends on adduser (postinst)"
expect_grep '^ Depends: .*libcurl4' "$work/info" "shlibdeps found libcurl"
expect_grep '^ Depends: .*libsystemd0' "$work/info" "shlibdeps found libsystemd"
expect_grep '^ Depends: .*libgmime-3.0' "$work/info" "shlibdeps found gmime"
dpkg-deb -e "$deb" "$work/control"
expect_file "$work/control/postinst"
if [ -x "$work/control/postinst" ]; then ok; else bad "postinst not executable"; fi
expect_grep 'adduser --system --group --home /var/lib/crm-mail' "$work/control/postinst" "postinst creates the user"
expect_grep 'install -d .*crm-mail .*/var/lib/crm-mail' "$work/control/postinst" "postinst makes the state directory"
# Nothing unconfigured is started or enabled (comments aside).
grep -vE '^[[:space:]]*#' "$work/control/postinst" >"$work/postinst.code"
expect_grep 'systemctl daemon-reload' "$work/postinst.code" "postinst reloads units (pattern check works)"
expect_no_grep 'systemctl (--[a-z-]+ )*(enable|start|restart|reload-or)' "$work/postinst.code" "postinst starts nothing"
expect_no_grep 'deb-systemd-invoke|invoke-rc.d' "$work/postinst.code" "postinst starts nothing"
if sh -n "$work/control/postinst" && sh -n "$work/control/prerm" && sh -n "$work/control/postrm"; then ok
else bad "maintainer script syntax"; fi
expect_grep '^/etc/crm-mail/crm-mail.toml.example$' "$work/control/conffiles" "config template is a conffile"

# Payload.
root=$work/root
dpkg -x "$deb" "$root"
for f in usr/bin/crm-maild usr/bin/crm-mailctl usr/lib/systemd/system/crm-maild.service \
         etc/crm-mail/crm-mail.toml.example usr/share/crm-mail/schema/0001_crm_core.sql \
         usr/share/crm-mail/schema/0004_sync_progress.sql usr/share/crm-mail/sample/crm/users.csv \
         usr/share/doc/crm-mail/README.md; do
  expect_file "$root/$f"
done
if [ -e "$root/etc/crm-mail/crm-mail.toml" ]; then bad "the package ships crm-mail.toml (would clobber a config)"; else ok; fi
# Stripped binaries in a small package; their debug information in the -dbgsym package, where
# gdb finds it by build id (/usr/lib/debug/.build-id/xx/rest.debug).
deb_bytes=$(stat -c %s "$deb")
if [ "$deb_bytes" -lt $((6 * 1024 * 1024)) ]; then ok; else bad "the .deb is $deb_bytes bytes (unstripped binaries?)"; fi
dbgsym=$(ls "$work"/pkg/crm-mail-dbgsym_*_*.ddeb 2>/dev/null | head -1)
[ -n "$dbgsym" ] && ok || bad "no crm-mail-dbgsym .ddeb next to the .deb"
dbgroot=$work/dbgroot
[ -n "$dbgsym" ] && dpkg -x "$dbgsym" "$dbgroot"
for b in crm-maild crm-mailctl; do
  if readelf -S "$root/usr/bin/$b" | grep -q '\.debug_info'; then bad "$b is not stripped"; else ok; fi
  id=$(readelf -n "$root/usr/bin/$b" | sed -n 's/.*Build ID: *\([0-9a-f]*\).*/\1/p')
  dbg=$dbgroot/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
  if [ -n "$id" ] && [ -f "$dbg" ] && readelf -S "$dbg" | grep -q '\.debug_info'; then ok
  else bad "$b: no debug file for build id '$id' in the dbgsym package"; fi
done
"$root/usr/bin/crm-maild" --version >"$work/v" 2>&1 && ok || bad "crm-maild --version failed"
expect_grep '^crm-maild [0-9]+\.[0-9]+\.[0-9]+' "$work/v" "crm-maild version"
"$root/usr/bin/crm-mailctl" --version >"$work/v" 2>&1 && ok || bad "crm-mailctl --version failed"
expect_grep '^crm-mailctl [0-9]' "$work/v" "crm-mailctl version"
# The packaged template is a valid config for the packaged tools.
if "$root/usr/bin/crm-mailctl" config check "$root/etc/crm-mail/crm-mail.toml.example" >"$work/cc" 2>&1; then ok
else bad "packaged template fails config check: $(cat "$work/cc")"; fi
# The packaged unit verifies against the packaged binary.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/units"
  sed "s|^ExecStart=/usr/bin/crm-maild |ExecStart=$root/usr/bin/crm-maild |" \
    "$root/usr/lib/systemd/system/crm-maild.service" >"$work/units/crm-maild.service"
  if systemd-analyze verify "$work/units/crm-maild.service" >"$work/verify" 2>&1; then ok
  else bad "verify packaged unit: $(cat "$work/verify")"; fi
fi

# cmake --install lays out the same tree.
if DESTDIR="$work/destdir" cmake --install "$build" --prefix /usr >"$work/install.log" 2>&1; then ok
else bad "cmake --install: $(tail -5 "$work/install.log")"; fi
for f in usr/bin/crm-maild usr/bin/crm-mailctl usr/lib/systemd/system/crm-maild.service \
         etc/crm-mail/crm-mail.toml.example usr/share/crm-mail/schema/0002_mail.sql; do
  expect_file "$work/destdir/$f"
done
if cmp -s "$src/systemd/crm-maild.service" "$work/destdir/usr/lib/systemd/system/crm-maild.service"; then ok
else bad "installed unit differs from systemd/crm-maild.service"; fi

echo "package_test: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
