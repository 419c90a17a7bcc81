#!/usr/bin/env bash
# Starts a throwaway Cyrus IMAP 3.6 (Debian's cyrus-imapd, run from its unpacked package: the
# installed Dovecot conflicts with the package) on 127.0.0.1, entirely under DIR:
#
#   start.sh DIR CERT KEY [USER...]
#
# CERT/KEY: the server certificate (for 127.0.0.1) and key, e.g. the test Dovecot's, so both
# servers verify against one test CA. Every USER (default: alice) gets the password "<user>-pw"
# (sasldb); INBOX and Sent are created at the first login. Cyrus refuses to run as root: master
# starts as root and its services run as "nobody". Cyrus logs through syslog only.
# Listeners: IMAPS_PORT (implicit TLS), IMAP_PORT (plaintext allowed, STARTTLS offered) and
# STRICT_PORT (STARTTLS offered, plaintext login refused: LOGINDISABLED, no AUTH= before TLS).
# Writes DIR/env (CYRUS_ROOT IMAPS_PORT IMAP_PORT STRICT_PORT CYRUS_PID) and prints its path.
# Exits 77 when Cyrus cannot be had here (not root, package not unpacked and not downloadable).
set -euo pipefail
# shellcheck source=../unpacked_server.sh
. "$(dirname "${BASH_SOURCE[0]}")/../unpacked_server.sh" cyrus "$@"
command -v saslpasswd2 >/dev/null || { echo "start.sh: saslpasswd2 missing (sasl2-bin)" >&2; exit 77; }
bin=$root/usr/lib/cyrus/bin
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 0755 "$dir"
mkdir -p "$dir"/conf/{db,socket,proc,log,msg,user,quota,lock,ptclient,sync} "$dir"/{spool,sieve,run,tls}
cp "$cert" "$dir/tls/server.crt"
cp "$key" "$dir/tls/server.key"
read -r imaps imap strict < <(free_ports 3)
cat >"$dir/imapd.conf" <<EOT
configdirectory: $dir/conf
defaultpartition: default
partition-default: $dir/spool
sievedir: $dir/sieve
cyrus_user: nobody
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
strict_allowplaintext: no
autocreate_quota: 0
autocreate_inbox_folders: Sent
autocreate_post: 1
specialusealways: yes
xlist-sent: Sent
unixhierarchysep: yes
idlesocket: $dir/run/idle
notifysocket: $dir/run/notify
lmtpsocket: $dir/run/lmtp
tls_server_cert: $dir/tls/server.crt
tls_server_key: $dir/tls/server.key
syslog_prefix: crm-test-cyrus
# IDLE is told of changes by idled (DAEMON below); imapd also polls every imapidlepoll s, kept
# short so that a notification idled drops on a loaded machine costs 2 s, not 60.
imapidlepoll: 2
EOT
cat >"$dir/cyrus.conf" <<EOT
START {
  recover cmd="$bin/ctl_cyrusdb -r -C $dir/imapd.conf"
}
SERVICES {
  imap cmd="$bin/imapd -C $dir/imapd.conf" listen="127.0.0.1:$imap" prefork=1
  strict cmd="$bin/imapd -C $dir/imapd.conf" listen="127.0.0.1:$strict" prefork=0
  imaps cmd="$bin/imapd -s -C $dir/imapd.conf" listen="127.0.0.1:$imaps" prefork=1
}
EVENTS {
}
DAEMON {
  idled cmd="$bin/idled -C $dir/imapd.conf"
}
EOT
rm -f "$dir/sasldb2"
for u in "${users[@]}"; do
  printf '%s' "$u-pw" | saslpasswd2 -p -c -f "$dir/sasldb2" -u "" "$u"
done
chown -R nobody:nogroup "$dir/conf" "$dir/spool" "$dir/sieve" "$dir/run" "$dir/tls" "$dir/sasldb2"
chmod 0600 "$dir/tls/server.key"
(cd "$dir" && exec "$bin/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/run/master.pid" -D \
   >"$dir/master.out" 2>&1 </dev/null) &
pid=$!
wait_listening "$pid" "$dir/master.out" "$imap" "$strict" "$imaps"
cat >"$dir/env" <<EOT
CYRUS_ROOT=$root
IMAPS_PORT=$imaps
IMAP_PORT=$imap
STRICT_PORT=$strict
CYRUS_PID=$pid
EOT
echo "$dir/env"
