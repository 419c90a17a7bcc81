#!/usr/bin/env bash
# Starts a throwaway Courier-IMAP 5.0 (Debian's courier-imap with courier-authdaemon and userdb,
# run from its unpacked package: it conflicts with the installed Dovecot) on 127.0.0.1:
#
#   start.sh DIR CERT KEY [USER...]
#
# CERT/KEY: the server certificate (for 127.0.0.1) and key, e.g. the test Dovecot's. Every USER
# (default: alice) gets the password "<user>-pw" (userdb) and a Maildir with Sent, owned by
# "nobody". Courier's paths are compiled in (/etc/courier, /run/courier/authdaemon/socket,
# /usr/lib/courier-authlib, ...): its daemons run in a private mount namespace (unshare -m) where
# /etc and /usr/lib are overlaid with DIR/etc and the unpacked package, and /run is DIR/run; the
# host's /etc, /usr/lib and /run are untouched. IDLE is "enhanced" (IMAP_ENHANCEDIDLE, through
# Gamin's inotify), so changes are reported at once, not every IMAP_IDLE_TIMEOUT (60) s.
# Listeners (couriertcpd): IMAPS_PORT (implicit TLS, couriertls), IMAP_PORT (STARTTLS offered,
# LOGIN allowed, AUTH=PLAIN only after STARTTLS) and STRICT_PORT (IMAP_TLS_REQUIRED:
# LOGINDISABLED before STARTTLS). Logs: DIR/*.log.
# Writes DIR/env (COURIER_ROOT IMAPS_PORT IMAP_PORT STRICT_PORT COURIER_PID COURIER_MNTNS) and
# prints its path. Exits 77 when Courier cannot be had here (not root, packages not unpacked and
# not downloadable); 1 when it does not start (e.g. no mount namespace or overlayfs).
set -euo pipefail
if [ "${1:-}" = --in-namespace ]; then
  # Inside the namespace: overlay the fixed paths, build userdb.dat, run the daemons.
  dir=$2 root=$3
  mount -t overlay crm-courier-etc -o "lowerdir=$dir/etc:/etc" /etc
  mount --bind "$dir/courier-etc" /etc/courier
  mount -t overlay crm-courier-lib -o "lowerdir=$root/usr/lib:/usr/lib" /usr/lib
  mount --bind "$dir/run" /run
  perl "$root/usr/sbin/makeuserdb" >"$dir/makeuserdb.log" 2>&1
  /usr/lib/courier/courier-authlib/authdaemond >"$dir/authdaemond.log" 2>&1 </dev/null &
  set -a
  # shellcheck disable=SC1091
  . /etc/courier/imapd
  set +a
  tcpd() { # PORT LOG PROGRAM...
    local port=$1 log=$2
    shift 2
    "$root/usr/sbin/couriertcpd" -address=127.0.0.1 -maxprocs=40 -maxperip=20 -nodnslookup \
      -noidentlookup "$port" "$@" >>"$dir/$log" 2>&1 </dev/null &
  }
  login=(/usr/lib/courier/courier/imaplogin "$root/usr/bin/imapd" Maildir)
  tcpd "$IMAP_PORT" imapd.log "${login[@]}"
  IMAP_TLS_REQUIRED=1 tcpd "$STRICT_PORT" imapd-strict.log "${login[@]}"
  IMAP_TLS=1 IMAP_STARTTLS=NO tcpd "$IMAPS_PORT" imapd-ssl.log "$COURIERTLS" -server -tcpd "${login[@]}"
  wait
  exit 0
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../unpacked_server.sh
. "$here/../unpacked_server.sh" courier "$@"
unshare -m --propagation private true || { echo "start.sh: no private mount namespace (unshare -m)" >&2; exit 1; }
grep -qw overlay /proc/filesystems || modprobe overlay || { echo "start.sh: no overlayfs" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
chmod 0755 "$dir"
mkdir -p "$dir"/etc/courier "$dir"/courier-etc/shared "$dir"/run/courier/authdaemon "$dir"/home
read -r imaps imap strict < <(free_ports 3)
cat "$key" "$cert" >"$dir/courier-etc/imapd.pem"
chmod 0600 "$dir/courier-etc/imapd.pem"
# Debian's /etc/courier/imapd and imapd-ssl, less what is for the init scripts, plus the ports.
cat >"$dir/courier-etc/imapd" <<EOT
IMAP_PORT=$imap
STRICT_PORT=$strict
IMAPS_PORT=$imaps
IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
IMAP_KEYWORDS=1
IMAP_ACL=1
IMAP_PROXY=0
IMAP_IDLE_TIMEOUT=60
IMAP_MAILBOX_SANITY_CHECK=1
IMAP_CAPABILITY_TLS="\$IMAP_CAPABILITY AUTH=PLAIN"
IMAP_DISABLETHREADSORT=0
IMAP_CHECK_ALL_FOLDERS=0
IMAP_OBSOLETE_CLIENT=0
IMAP_UMASK=022
IMAP_USELOCKS=1
IMAP_SHAREDINDEXFILE=/etc/courier/shared/index
IMAP_ENHANCEDIDLE=1
IMAP_TRASHFOLDERNAME=Trash
IMAP_EMPTYTRASH=Trash:7
IMAP_MOVE_EXPUNGE_TO_TRASH=0
IMAP_STARTTLS=YES
IMAP_TLS_REQUIRED=0
COURIERTLS=$root/usr/bin/couriertls
TLS_CERTFILE=/etc/courier/imapd.pem
TLS_TRUSTCERTS=/etc/ssl/certs/ca-certificates.crt
TLS_VERIFYPEER=NONE
EOT
cat >"$dir/courier-etc/authdaemonrc" <<EOT
authmodulelist="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
EOT
: >"$dir/courier-etc/userdb"
chmod 0600 "$dir/courier-etc/userdb"
uid=$(id -u nobody) gid=$(id -g nobody)
for u in "${users[@]}"; do
  home=$dir/home/$u
  mkdir -p "$home"/Maildir/{cur,new,tmp} "$home"/Maildir/.Sent/{cur,new,tmp}
  : >"$home/Maildir/.Sent/maildirfolder"
  printf 'INBOX.Sent\n' >"$home/Maildir/courierimapsubscribed"
  printf '%s\tuid=%s|gid=%s|home=%s|mail=%s|shell=/bin/false|systempw=%s\n' "$u" "$uid" "$gid" \
    "$home" "$home/Maildir" "$(openssl passwd -6 "$u-pw")" >>"$dir/courier-etc/userdb"
done
chown -R nobody:nogroup "$dir/home"
# imaplogin runs couriertls for STARTTLS as the user "courier": in the namespace, "nobody".
{ cat /etc/passwd; echo "courier:x:$uid:$gid:Courier:/nonexistent:/usr/sbin/nologin"; } >"$dir/etc/passwd"
{ cat /etc/group; echo "courier:x:$gid:"; } >"$dir/etc/group"
chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
chown "$uid:$gid" "$dir/courier-etc/imapd.pem"
# In a session of its own (setsid): stopping Courier signals its process group (a SIGTERM to the
# daemons reached every process of the caller's group: the whole ctest run, CI's exit 143).
unshare -m --propagation private -- setsid "$here/start.sh" --in-namespace "$dir" "$root" \
  >"$dir/namespace.log" 2>&1 </dev/null &
pid=$!
wait_listening "$pid" "$dir/namespace.log" "$imap" "$strict" "$imaps"
cat >"$dir/env" <<EOT
COURIER_ROOT=$root
IMAPS_PORT=$imaps
IMAP_PORT=$imap
STRICT_PORT=$strict
COURIER_PID=$pid
COURIER_MNTNS=$(readlink "/proc/$pid/ns/mnt")
EOT
echo "$dir/env"
