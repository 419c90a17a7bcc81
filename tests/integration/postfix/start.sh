#!/usr/bin/env bash
# Starts a throwaway Postfix 3.7 (SMTP submission server) for integration tests, entirely under
# DIR, delivering into the test Dovecot of DOVECOT_DIR (tests/integration/dovecot/start.sh):
#
#   start.sh DIR DOVECOT_DIR [--port-base N]
#
# Nothing under /etc/postfix, /var/spool/postfix or systemd is used or needed; the instance is
# `postfix -c DIR/etc start` (run as root; daemons drop to mail_owner postfix, no chroot).
# Several instances (different DIRs) can run side by side.
#
# Layout of DIR (created; an instance already running from DIR is stopped first):
#   etc/main.cf, etc/master.cf   complete config (config_directory)
#   etc/recipient_access         texthash map for forced errors, see below
#   etc/local_recipients         regexp map: the Dovecot users (unknown users: 550 at RCPT)
#   spool/                       queue_directory (public/, private/, maildrop/, deferred/ ...)
#   data/                        data_directory (master.lock, caches)
#   postfix.log                  all Postfix logging (maillog_file via postlogd; no syslog needed)
#   start.err                    output of the last `postfix start` (shown when start fails)
#   env                          shell assignments, see below
#
# Listeners, 127.0.0.1 only (with --port-base N: N and N+1; otherwise free ephemeral ports are
# picked, and start is retried if one gets taken meanwhile). No port 25 / unauthenticated SMTP.
#   SMTPS_PORT       implicit TLS (like 465, smtpd_tls_wrappermode=yes)
#   SUBMISSION_PORT  plain SMTP where STARTTLS is required before anything else (like 587)
# Both require SASL AUTH (PLAIN, LOGIN; also XOAUTH2/OAUTHBEARER when the Dovecot has OAuth2)
# before MAIL FROM, checked by the Dovecot (smtpd_sasl_type = dovecot on its AUTH_SOCKET):
# user "alice" with password "alice-pw" etc. The certificate is the Dovecot's tls/server.crt
# (CN=localhost, SAN localhost, 127.0.0.1) signed by its throwaway CA (CA_FILE).
#
# Delivery: every domain is a virtual mailbox domain; an accepted recipient <user@any.domain>
# goes over LMTP (inet 127.0.0.1:LMTP_PORT) to the Dovecot user "user" (domain stripped by
# Dovecot). Recipients whose local part is not a Dovecot user get "550 5.1.1 ... User unknown"
# at RCPT. Nothing is ever relayed to another host; bounces go to the sender's Dovecot mailbox.
#
# An unknown recipient that bounces: gone@<any domain> is accepted at RCPT, then the Dovecot
# refuses it over LMTP ("550 5.1.1 ... User doesn't exist") and Postfix sends the sender's
# mailbox a delivery status notification (RFC 3464), as a real server does for a mailbox that
# vanished behind a relay.
#
# Forced errors for tests (local part, any domain), at RCPT TO:
#   reject550@...   550 5.1.1 <reject550@...>: Recipient address rejected: no such user
#   tempfail@...    450 4.2.1 <tempfail@...>: Recipient address rejected: try later
# (etc/recipient_access, a texthash map read when an smtpd process starts: after editing it, run
# $POSTFIX reload.)
#
# DIR/env contains: POSTFIX_DIR SMTPS_PORT SUBMISSION_PORT CA_FILE POSTFIX POSTQUEUE POSTSUPER
# POSTFIX_LOG DOVECOT_DIR. POSTFIX/POSTQUEUE/POSTSUPER are commands with "-c DIR/etc", meant to be
# used unquoted: $POSTQUEUE -p (list queue), $POSTQUEUE -f (flush), $POSTSUPER -d ALL (empty it).
#
# Prints the env file path on success. Exits non-zero (and shows the log tail) on failure.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { echo "usage: $0 DIR DOVECOT_DIR [--port-base N]" >&2; exit 2; }

[ $# -ge 2 ] || usage
dir=$1 dcdir=$2; shift 2
port_base=""
while [ $# -gt 0 ]; do
  case $1 in
    --port-base) [ $# -ge 2 ] || usage; port_base=$2; shift 2 ;;
    *) usage ;;
  esac
done
if [ -n "$port_base" ] && ! [[ $port_base =~ ^[0-9]+$ && $port_base -ge 1024 && $port_base -le 65534 ]]; then
  echo "start.sh: --port-base must be a number in 1024..65534" >&2; exit 2
fi
[ "$(id -u)" -eq 0 ] || { echo "start.sh: must run as root (postfix -c DIR/etc start)" >&2; exit 1; }
for tool in postfix postconf python3 ss; do
  command -v "$tool" >/dev/null || { echo "start.sh: $tool not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
getent passwd postfix >/dev/null && getent group postdrop >/dev/null ||
  { echo "start.sh: user postfix / group postdrop missing (install the postfix package)" >&2; exit 1; }

# --- the Dovecot to deliver to and authenticate against ---------------------------------------
dcdir=$(cd "$dcdir" 2>/dev/null && pwd) || { echo "start.sh: no such directory $2" >&2; exit 1; }
[ -f "$dcdir/env" ] || { echo "start.sh: $dcdir/env missing (start the Dovecot first)" >&2; exit 1; }
(
  # shellcheck disable=SC1091
  . "$dcdir/env"
  [ -n "${LMTP_PORT:-}" ] && [ -n "${CA_FILE:-}" ] && [ -n "${AUTH_SOCKET:-}" ]
) || { echo "start.sh: $dcdir/env lacks LMTP_PORT, CA_FILE or AUTH_SOCKET" >&2; exit 1; }
# shellcheck disable=SC1091
dc_env() { (. "$dcdir/env"; eval "echo \"\$$1\""); }
lmtp_port=$(dc_env LMTP_PORT)
auth_socket=$(dc_env AUTH_SOCKET)
ca_file=$(dc_env CA_FILE)
dc_users=$(dc_env DOVECOT_USERS)
tls_crt=$dcdir/tls/server.crt
tls_key=$dcdir/tls/server.key
[ -S "$auth_socket" ] || { echo "start.sh: Dovecot auth socket $auth_socket missing (Dovecot not running?)" >&2; exit 1; }
[ -s "$tls_crt" ] && [ -s "$tls_key" ] || { echo "start.sh: $dcdir/tls/server.{crt,key} missing" >&2; exit 1; }

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# Idempotent: stop whatever runs from DIR already.
[ -f "$dir/etc/main.cf" ] && "$here/stop.sh" "$dir" >/dev/null 2>&1 || true

# Postfix is picky about ownership: config and queue_directory root-owned and not group/world
# writable (its subdirectories get their owners from `postfix check` / post-install).
chown root:root "$dir"
chmod 0755 "$dir"
mkdir -p "$dir/etc" "$dir/spool" "$dir/data"
chown root:root "$dir/etc" "$dir/spool"
chmod 0755 "$dir/etc" "$dir/spool"
chown postfix:postfix "$dir/data"
chmod 0700 "$dir/data"
: >>"$dir/postfix.log"
chmod 0644 "$dir/postfix.log"

# --- maps -----------------------------------------------------------------------------------------
cat >"$dir/etc/recipient_access" <<'EOF'
# check_recipient_access texthash map (tests/integration/postfix/start.sh): forced errors at RCPT.
# "localpart@" matches that local part in every domain.
reject550@	550 5.1.1 no such user
tempfail@	450 4.2.1 try later
EOF
{
  echo "# virtual_mailbox_maps (regexp): the Dovecot users; anything else is 550 User unknown."
  alt=$(echo "$dc_users" | tr -s ' ' '\n' | sed '/^$/d; s/[.]/\\./g' | paste -sd'|')
  [ -n "$alt" ] || alt=alice
  echo "/^($alt)(\\+[^@]*)?@/	OK"
  echo "# Accepted here but no Dovecot user: LMTP refuses it and Postfix bounces (a DSN)."
  echo "/^gone@/	OK"
} >"$dir/etc/local_recipients"

# --- ports ----------------------------------------------------------------------------------
pick_ports() {
  if [ -n "$port_base" ]; then
    # Checked here because Postfix itself would not notice: see ports_exclusive.
    python3 - "$port_base" <<'EOF' || return 1
import socket, sys
for port in (int(sys.argv[1]), int(sys.argv[1]) + 1):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError as e:
        sys.exit("start.sh: port %d: %s" % (port, e.strerror))
    s.close()
EOF
    echo "$port_base $((port_base + 1))"
  else
    python3 - <<'EOF'
import socket
socks = []
for _ in range(2):
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

write_conf() { # smtps_port submission_port
  local smtps=$1 sub=$2 name
  name=postfix-test-$(basename "$dir")
  cat >"$dir/etc/main.cf" <<EOF
# Generated by tests/integration/postfix/start.sh - throwaway test instance, do not edit.
compatibility_level = 3.6
config_directory = $dir/etc
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $name
maillog_file = $dir/postfix.log
maillog_file_prefixes = $dir
# own instance: not part of a postmulti group, never looks at /etc/postfix/main.cf
multi_instance_enable = no
alternate_config_directories =

inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = localhost
mydomain = localdomain
myorigin = localhost
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP crm-mail test Postfix
biff = no
smtputf8_enable = yes

# No local delivery, no relaying: every domain is a virtual mailbox domain delivered to Dovecot.
mydestination =
relay_domains =
relayhost =
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = static:all
virtual_mailbox_maps = regexp:$dir/etc/local_recipients
virtual_alias_maps =
virtual_transport = lmtp:inet:127.0.0.1:$lmtp_port
default_transport = error:5.7.1 this test server does not relay
relay_transport = error:5.7.1 this test server does not relay
recipient_delimiter = +
lmtp_tls_security_level = none
lmtp_destination_recipient_limit = 50
lmtp_host_lookup = native
disable_dns_lookups = yes
smtp_dns_support_level = disabled
smtpd_peername_lookup = no

# SASL via the test Dovecot
smtpd_sasl_type = dovecot
smtpd_sasl_path = $auth_socket
smtpd_sasl_auth_enable = no
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
broken_sasl_auth_clients = no

# TLS with the Dovecot test CA's server certificate
smtpd_tls_cert_file = $tls_crt
smtpd_tls_key_file = $tls_key
smtpd_tls_security_level = none
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_session_cache_database =
smtp_tls_security_level = none

smtpd_helo_required = no
smtpd_client_restrictions =
smtpd_helo_restrictions =
smtpd_sender_restrictions =
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = check_recipient_access texthash:$dir/etc/recipient_access,
    reject_unlisted_recipient, permit_sasl_authenticated, reject
smtpd_reject_unlisted_recipient = yes
unknown_virtual_mailbox_reject_code = 550

# Fast and predictable for tests: no tarpitting after errors, quick retries of deferred mail.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 100
smtpd_junk_command_limit = 1000
smtpd_client_connection_rate_limit = 0
smtpd_client_auth_rate_limit = 0
anvil_rate_time_unit = 60s
in_flow_delay = 0
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
maximal_queue_lifetime = 1h
bounce_queue_lifetime = 1h
delay_warning_time = 0
message_size_limit = 10240000
mailbox_size_limit = 0
EOF

  cat >"$dir/etc/master.cf" <<EOF
# Generated by tests/integration/postfix/start.sh - throwaway test instance, do not edit.
# service     type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$smtps inet n     -       n       -       -       smtpd
  -o syslog_name=$name/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=permit_sasl_authenticated,reject
127.0.0.1:$sub inet n       -       n       -       -       smtpd
  -o syslog_name=$name/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_sender_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  chmod 0644 "$dir/etc/main.cf" "$dir/etc/master.cf" "$dir/etc/recipient_access" "$dir/etc/local_recipients"
  # Postfix programs that read a config/map file modified within the current second wait (in
  # 300ms steps) until it is older, to avoid reading a half-written file: backdate ours.
  touch -d "@$(($(date +%s) - 2))" "$dir/etc/main.cf" "$dir/etc/master.cf" \
    "$dir/etc/recipient_access" "$dir/etc/local_recipients"
}

# Postfix's master binds with SO_REUSEPORT, so a second root-owned Postfix (another test
# instance) on the same port starts "successfully" and the kernel splits connections between
# the two. After start, each port must have exactly one listening socket.
ports_exclusive() { # port...
  local p
  for p in "$@"; do
    [ "$(ss -ltnH "sport = :$p" | wc -l)" -eq 1 ] || {
      echo "port $p: Address already in use by another listener" >>"$dir/start.err"; return 1; }
  done
}

pf() { postfix -c "$dir/etc" "$@"; }

start_s=$(date +%s.%N)
started=0
for _attempt in 1 2 3 4 5; do
  ports=$(pick_ports) || exit 1
  read -r smtps_port sub_port <<<"$ports"
  write_conf "$smtps_port" "$sub_port"
  log_mark=$(stat -c %s "$dir/postfix.log" 2>/dev/null || echo 0)
  # `postfix start` runs the checks of `postfix check` first: it creates the queue
  # subdirectories with the right owners (post-install create-missing, from
  # meta_directory/postfix-files) and refuses to start on fatal problems. `master -w` inside
  # returns only after the master has bound its listeners.
  if pf start >"$dir/start.err" 2>&1; then
    if wait_ports 20 "$smtps_port" "$sub_port" && ports_exclusive "$smtps_port" "$sub_port"; then
      started=1; break
    fi
  fi
  "$here/stop.sh" "$dir" >/dev/null 2>&1 || true
  if [ -z "$port_base" ] && { grep -q "in use" "$dir/start.err" 2>/dev/null ||
                              tail -c +"$((log_mark + 1))" "$dir/postfix.log" | grep -q "in use"; }; then
    continue
  fi
  break
done
if [ "$started" != 1 ]; then
  echo "start.sh: postfix did not come up; see $dir/postfix.log" >&2
  cat "$dir/start.err" >&2 2>/dev/null || true
  tail -n 20 "$dir/postfix.log" >&2 2>/dev/null || true
  exit 1
fi
end_s=$(date +%s.%N)

cat >"$dir/env" <<EOF
POSTFIX_DIR='$dir'
SMTPS_PORT=$smtps_port
SUBMISSION_PORT=$sub_port
CA_FILE='$ca_file'
POSTFIX='postfix -c $dir/etc'
POSTQUEUE='postqueue -c $dir/etc'
POSTSUPER='postsuper -c $dir/etc'
POSTFIX_LOG='$dir/postfix.log'
DOVECOT_DIR='$dcdir'
EOF
awk -v a="$start_s" -v b="$end_s" 'BEGIN { printf "start.sh: postfix up in %.2fs\n", b - a }' >&2
echo "$dir/env"
