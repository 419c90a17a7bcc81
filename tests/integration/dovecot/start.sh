#!/usr/bin/env bash
# Starts a throwaway Dovecot 2.3 for integration tests and the demo, entirely under DIR:
#
#   start.sh DIR [--port-base N] [--users "dave erin"] [--no-oauth2]
#
# Nothing under /etc/dovecot or systemd is used; dovecot runs as root with `-c DIR/dovecot.conf`.
#
# Layout of DIR (created; an instance already running from DIR is stopped first):
#   dovecot.conf      complete config (no !include from /etc)
#   users             passwd-file: every user has password "<name>-pw" ({PLAIN} scheme)
#   oauth2-tokens     "<token> <user>" lines for the local introspection endpoint
#   tls/ca.crt        throwaway CA (CA_FILE); tls/server.{crt,key} for CN=localhost,
#                     SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   mail/<user>/      Maildir++ (Dovecot's default maildir layout, hierarchy separator "."):
#                     INBOX is mail/<user>/{cur,new,tmp}, folder "Sent" is mail/<user>/.Sent/,
#                     "a/b" (IMAP separator "/") is mail/<user>/.a.b/. Owned by the mail uid.
#   run -> base_dir   runtime sockets, master.pid (a /tmp/dc.XXXXXX dir when DIR is too long
#                     for the 108-byte unix socket limit)
#   state/            Dovecot state_dir (instead of /var/lib/dovecot)
#   dovecot.log       all Dovecot logging (auth_verbose on); oauth2.log for the token endpoint
#   env               shell assignments, see below
#
# Listeners, all on 127.0.0.1 only (with --port-base N the ports are N, N+1, N+2, N+3;
# otherwise free ephemeral ports are picked, and start is retried if one gets taken meanwhile):
#   IMAPS_PORT   IMAP with implicit TLS
#   IMAP_PORT    plain IMAP offering STARTTLS; TLS is NOT required and plaintext LOGIN/AUTH is
#                allowed (disable_plaintext_auth = no), so clients with tls = none work on
#                loopback. A second "STARTTLS required" port is not offered: Dovecot 2.3 cannot
#                vary ssl=required per listener on the same IP.
#   LMTP_PORT    LMTP (RCPT TO:<user> or <user@any.domain>; the domain is stripped)
#   LMTP_SOCKET  LMTP unix socket (base_dir/lmtp)
#   AUTH_SOCKET  Dovecot auth-client socket (base_dir/auth-client-smtp, mode 0666) for SASL of the
#                test Postfix (smtpd_sasl_type = dovecot, tests/integration/postfix/start.sh)
#   OAUTH2_PORT  python3 token-introspection endpoint used by the oauth2 passdb (unless --no-oauth2)
#
# Auth: mechanisms PLAIN and LOGIN (over TLS and over plaintext loopback), plus XOAUTH2 and
# OAUTHBEARER with the static bearer token "<name>-token" for each user. Default users:
# alice bob carol customer (+ --users, or the space-separated DOVECOT_TEST_USERS variable).
#
# DIR/env contains: DOVECOT_DIR DOVECOT_BASE_DIR IMAPS_PORT IMAP_PORT LMTP_PORT LMTP_SOCKET
# AUTH_SOCKET OAUTH2_PORT OAUTH2_URL CA_FILE DOVEADM MAIL_USER DOVECOT_USERS
# (DOVEADM is "doveadm -c DIR/dovecot.conf", meant to be used unquoted: $DOVEADM mailbox list -u alice)
#
# Mailboxes \Sent Sent, \Drafts Drafts, \Trash Trash, \Junk Junk, \Archive Archive are created
# and subscribed automatically (SPECIAL-USE). CONDSTORE, QRESYNC, IDLE are in the post-login
# CAPABILITY (Dovecot defaults); IDLE sends "OK Still here" every 5s and checks for changes
# every 1s.
#
# Prints the env file path on success. Exits non-zero (and shows the log tail) on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { echo "usage: $0 DIR [--port-base N] [--users \"u1 u2\"] [--no-oauth2]" >&2; exit 2; }

[ $# -ge 1 ] || usage
dir=$1; shift
port_base=""
extra_users=${DOVECOT_TEST_USERS:-}
oauth2=1
while [ $# -gt 0 ]; do
  case $1 in
    --port-base) [ $# -ge 2 ] || usage; port_base=$2; shift 2 ;;
    --users) [ $# -ge 2 ] || usage; extra_users="$extra_users $2"; shift 2 ;;
    --no-oauth2) oauth2=0; shift ;;
    *) usage ;;
  esac
done
if [ -n "$port_base" ] && ! [[ $port_base =~ ^[0-9]+$ && $port_base -ge 1024 && $port_base -le 65530 ]]; then
  echo "start.sh: --port-base must be a number in 1024..65530" >&2; exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "start.sh: must run as root (dovecot master drops privileges itself)" >&2; exit 1; }
command -v dovecot >/dev/null || { echo "start.sh: dovecot not installed (scripts/install-deps.sh)" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Idempotent: stop whatever runs from DIR already.
[ -f "$dir/env" ] && "$here/stop.sh" "$dir" >/dev/null 2>&1 || true

# --- mail user ---------------------------------------------------------------------------------
mail_user=vmail
if ! getent passwd vmail >/dev/null; then
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
          --shell /usr/sbin/nologin vmail 2>/dev/null || true
fi
if ! getent passwd vmail >/dev/null; then
  echo "start.sh: warning: could not create user vmail, storing mail as user dovecot" >&2
  mail_user=dovecot
fi
mail_uid=$(id -u "$mail_user")
mail_gid=$(id -g "$mail_user")

# The mail uid must be able to reach DIR/mail: DIR itself is made traversable; parents are checked.
chmod 0755 "$dir"
if ! setpriv --reuid="$mail_uid" --regid="$mail_gid" --clear-groups test -x "$dir"; then
  echo "start.sh: $dir is not reachable by user $mail_user (a parent directory is not o+x)" >&2
  exit 1
fi

# --- users ------------------------------------------------------------------------------------
users=(alice bob carol customer)
for u in $extra_users; do
  [[ $u =~ ^[a-z0-9][a-z0-9._-]*$ ]] || { echo "start.sh: bad user name '$u'" >&2; exit 2; }
  [[ " ${users[*]} " == *" $u "* ]] || users+=("$u")
done
: >"$dir/users.new"
: >"$dir/oauth2-tokens.new"
for u in "${users[@]}"; do
  # user:password:uid:gid:(gecos):home:(shell):extra
  echo "$u:{PLAIN}$u-pw:$mail_uid:$mail_gid::$dir/mail/$u::" >>"$dir/users.new"
  echo "$u-token $u" >>"$dir/oauth2-tokens.new"
done
mv "$dir/users.new" "$dir/users"
mv "$dir/oauth2-tokens.new" "$dir/oauth2-tokens"
chmod 0644 "$dir/users" "$dir/oauth2-tokens"   # test passwords; auth runs as user dovecot

mkdir -p "$dir/mail" "$dir/state"
chown "$mail_uid:$mail_gid" "$dir/mail"
chmod 0750 "$dir/mail"

# --- TLS: throwaway CA + server cert -----------------------------------------------------------
tls=$dir/tls
if ! { [ -s "$tls/ca.crt" ] && [ -s "$tls/server.crt" ] && [ -s "$tls/server.key" ] &&
       openssl x509 -in "$tls/server.crt" -noout -checkend 86400 >/dev/null 2>&1; }; then
  mkdir -p "$tls"
  (
    cd "$tls"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=crm-mail test CA" \
      -keyout ca.key -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr \
      2>/dev/null
    cat >server.ext <<'EOF'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
EOF
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.crt 2>/dev/null
    rm -f server.csr ca.srl
    chmod 0644 ca.crt server.crt
  )
fi

# --- base_dir (unix socket paths must stay below 108 bytes) --------------------------------------
base_dir=$dir/run
if [ ${#base_dir} -gt 60 ]; then
  if [ -L "$dir/run" ] && [ -d "$(readlink "$dir/run")" ]; then
    base_dir=$(readlink "$dir/run")
  else
    rm -rf "$dir/run"
    base_dir=$(mktemp -d /tmp/dc.XXXXXX)
    ln -s "$base_dir" "$dir/run"
  fi
else
  [ -L "$base_dir" ] && rm -f "$base_dir"
  mkdir -p "$base_dir"
fi
chmod 0755 "$base_dir"

# --- ports ----------------------------------------------------------------------------------
pick_ports() {
  if [ -n "$port_base" ]; then
    echo "$port_base $((port_base + 1)) $((port_base + 2)) $((port_base + 3))"
  else
    python3 - <<'EOF'
import socket
socks = []
for _ in range(4):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
  fi
}

wait_ports() { # timeout_s port...
  python3 - "$@" <<'EOF'
import socket, sys, time
deadline = time.time() + float(sys.argv[1])
for port in map(int, sys.argv[2:]):
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                sys.exit(1)
            time.sleep(0.05)
EOF
}

write_conf() { # imaps imap lmtp oauth
  local imaps=$1 imap=$2 lmtp=$3 oauth=$4 mechs="plain login" oauth_passdb=""
  if [ "$oauth2" = 1 ]; then
    mechs="plain login xoauth2 oauthbearer"
    cat >"$dir/dovecot-oauth2.conf.ext" <<EOF
# RFC 7662 token introspection against oauth2_introspect.py on loopback
introspection_mode = post
introspection_url = http://127.0.0.1:$oauth/introspect
username_attribute = username
active_attribute = active
active_value = true
EOF
    oauth_passdb="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/dovecot-oauth2.conf.ext
}"
  fi
  cat >"$dir/dovecot.conf" <<EOF
# Generated by tests/integration/dovecot/start.sh - throwaway test instance, do not edit.
instance_name = crm-test-$(basename "$dir")-$$
base_dir = $base_dir
state_dir = $dir/state
protocols = imap lmtp
listen = 127.0.0.1
shutdown_clients = yes

log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
auth_verbose = yes
auth_verbose_passwords = no

default_internal_user = dovecot
default_internal_group = dovecot
default_login_user = dovenull

ssl = yes
ssl_cert = <$tls/server.crt
ssl_key = <$tls/server.key
ssl_min_protocol = TLSv1.2

# loopback only: allow PLAIN/LOGIN without TLS so "tls = none" client tests work
disable_plaintext_auth = no
auth_mechanisms = $mechs
# Fast failing logins for tests (production default is 2 secs), and no anvil auth penalty
# (exponential delay of up to 15s for later logins from an IP after a failure): auth disables
# the penalty when it cannot connect to the anvil-auth-penalty socket (mode 0).
auth_failure_delay = 0 secs
login_trusted_networks =
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}

passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $dir/users
}
$oauth_passdb
userdb {
  driver = passwd-file
  args = username_format=%u $dir/users
}

mail_location = maildir:$dir/mail/%u
mail_uid = $mail_uid
mail_gid = $mail_gid
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid
first_valid_gid = $mail_gid
last_valid_gid = $mail_gid
mail_privileged_group =
mail_access_groups =

namespace inbox {
  inbox = yes
  separator = /
  prefix =
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
  mailbox Archive {
    special_use = \\Archive
    auto = subscribe
  }
}

imap_idle_notify_interval = 5 secs
mailbox_idle_check_interval = 1 secs
mail_max_userip_connections = 100

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 0
  }
}
service submission-login {
  inet_listener submission {
    port = 0
  }
}

# LMTP for a later Postfix: unix socket and inet on loopback
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
postmaster_address = postmaster@localhost
protocol lmtp {
  auth_username_format = %Ln
}
# SASL for the test Postfix (smtpd runs as user postfix, hence mode 0666; test passwords only).
# The name ends in neither -login, -master nor -userdb, so it is a client (auth-client) socket.
service auth {
  unix_listener auth-client-smtp {
    mode = 0666
  }
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
}
EOF
}

start_oauth2() { # port
  [ "$oauth2" = 1 ] || return 0
  setsid python3 "$here/oauth2_introspect.py" "$1" "$dir/oauth2-tokens" \
    >>"$dir/oauth2.log" 2>&1 </dev/null &
  echo $! >"$dir/oauth2.pid"
}

start_s=$(date +%s.%N)
started=0
for _attempt in 1 2 3 4 5; do
  read -r imaps_port imap_port lmtp_port oauth2_port < <(pick_ports)
  write_conf "$imaps_port" "$imap_port" "$lmtp_port" "$oauth2_port"
  log_mark=$(stat -c %s "$dir/dovecot.log" 2>/dev/null || echo 0)
  start_oauth2 "$oauth2_port"
  if dovecot -c "$dir/dovecot.conf" 2>"$dir/start.err"; then
    ports=("$imaps_port" "$imap_port" "$lmtp_port")
    [ "$oauth2" = 1 ] && ports+=("$oauth2_port")
    if wait_ports 20 "${ports[@]}"; then started=1; break; fi
  fi
  # Failed: clean up this attempt; retry only if a port was taken in the meantime.
  if [ -s "$base_dir/master.pid" ]; then kill "$(cat "$base_dir/master.pid")" 2>/dev/null || true; sleep 0.5; fi
  [ -s "$dir/oauth2.pid" ] && kill "$(cat "$dir/oauth2.pid")" 2>/dev/null || true
  if [ -z "$port_base" ] && { grep -q "Address already in use" "$dir/start.err" 2>/dev/null ||
                              tail -c +"$((log_mark + 1))" "$dir/dovecot.log" 2>/dev/null | grep -q "Address already in use" ||
                              grep -q "Address already in use" "$dir/oauth2.log" 2>/dev/null; }; then
    continue
  fi
  break
done
if [ "$started" != 1 ]; then
  echo "start.sh: dovecot did not come up; see $dir/dovecot.log" >&2
  cat "$dir/start.err" >&2 2>/dev/null || true
  tail -n 20 "$dir/dovecot.log" >&2 2>/dev/null || true
  exit 1
fi
end_s=$(date +%s.%N)

cat >"$dir/env" <<EOF
DOVECOT_DIR='$dir'
DOVECOT_BASE_DIR='$base_dir'
IMAPS_PORT=$imaps_port
IMAP_PORT=$imap_port
LMTP_PORT=$lmtp_port
LMTP_SOCKET='$base_dir/lmtp'
AUTH_SOCKET='$base_dir/auth-client-smtp'
OAUTH2_PORT=$([ "$oauth2" = 1 ] && echo "$oauth2_port")
OAUTH2_URL='$([ "$oauth2" = 1 ] && echo "http://127.0.0.1:$oauth2_port/introspect")'
CA_FILE='$tls/ca.crt'
DOVEADM='doveadm -c $dir/dovecot.conf'
MAIL_USER=$mail_user
DOVECOT_USERS='${users[*]}'
EOF
awk -v a="$start_s" -v b="$end_s" 'BEGIN { printf "start.sh: dovecot up in %.2fs\n", b - a }' >&2
echo "$dir/env"
