#!/usr/bin/env bash
# The HTTP API over loopback against a running crm-maild and a real Dovecot (api_test.py does
# the requests): status codes and validation errors, sessions, CSRF/Host checks, login
# throttling, who may see and do what, read state mirrored to the server's \Seen, the admin
# API writing the config (and the daemon applying it), test connection naming the failing step,
# and HTTP-level limits (malformed requests, oversized bodies, keep-alive, max_connections,
# request bodies in flight with the daemon's RSS, running out of file descriptors), /metrics for
# local clients or with its token, and loopback Host names next to allowed_hosts.
#   api_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# With CRM_TEST_BACKEND=postgresql the same suite runs on a throwaway PostgreSQL 15
# (tests/integration/postgres/pg.sh) instead of SQLite; crm-mailctl then finds the database
# through the config ([database] url and password_file).
# Prints "N passed, M failed"; exit 1 on failure, 77 when it cannot run.
set -u
maild=$1
ctl=$2
root=$3
dcs=$root/tests/integration/dovecot
for tool in dovecot doveadm sqlite3 python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

work=$(mktemp -d /tmp/crm-apitest.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pid=""
backend=${CRM_TEST_BACKEND:-sqlite}
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  [ "$backend" = postgresql ] && bash "$root/tests/integration/postgres/pg.sh" stop "$work/pg" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc.err") || { echo "FAIL: dovecot: $(cat "$work/dc.err")"; echo "0 passed, 1 failed"; exit 1; }
# shellcheck disable=SC1090
. "$envfile"
db=$work/crm.db
database_toml="path = \"$db\""
ctl_db=(--db "$db")
if [ "$backend" = postgresql ]; then
  bash "$root/tests/integration/postgres/pg.sh" start "$work/pg" >/dev/null ||
    { echo "FAIL: PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
  pg_url=$(cat "$work/pg/url")
  pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
  database_toml="url = \"postgresql://crm_test@127.0.0.1:$pg_port/crm_test\"
password_file = \"$work/pg/password\""
  export CRM_TEST_PG_URL=$pg_url # for api_test.py's own queries
  export CRM_MAIL_CONFIG=$work/etc/crm.toml
  ctl_db=()
fi
mkdir -p "$work/etc"
printf 'alice-pw' >"$work/alice.pw"
printf 'bob-pw' >"$work/bob.pw"
printf 'api-test-metrics-token\n' >"$work/metrics.token"
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/etc/crm.toml" <<TOML
# api_test.sh
[database]
$database_toml
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $http_port
allowed_hosts = ["crm.example.test"]
max_connections = 128
metrics_token_file = "$work/metrics.token"
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.com"
poll_interval = 10
mirror_seen = true
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "alice"
password_file = "$work/alice.pw"

[[accounts]]
name = "bob"
owner_id = 2
address = "bob@example.com"
poll_interval = 10
mirror_seen = true
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "bob"
password_file = "$work/bob.pw"
TOML
"$ctl" "${ctl_db[@]}" db migrate >/dev/null
printf 'id,name,email,role\n1,Alice,alice@example.com,salesperson\n2,Bob,bob@example.com,salesperson\n3,Ada,ada@example.com,admin\n' >"$work/u.csv"
printf 'id,name,domains\n10,Customer Inc,customer.example\n' >"$work/c.csv"
printf 'id,name,emails,company_id\n100,Chloé,chloe@customer.example,10\n' >"$work/p.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency,shared\n500,Alice private,10,100,1,proposal,open,1,EUR,false\n' >"$work/d.csv"
for k in users:u companies:c contacts:p deals:d; do
  "$ctl" "${ctl_db[@]}" crm import "${k%%:*}" "$work/${k#*:}.csv" >/dev/null || echo "FAIL: crm import ${k%%:*}"
done
for u in 1:alice 2:bob 3:ada; do
  printf '%s-password-1\n' "${u#*:}" | "$ctl" "${ctl_db[@]}" users password "${u%%:*}" --password-stdin >/dev/null
done
"$ctl" "${ctl_db[@]}" tokens create 1 --name crm >"$work/alice.token" 2>/dev/null
"$ctl" "${ctl_db[@]}" tokens create 3 --name admin >"$work/ada.token" 2>/dev/null
cat >"$work/m1.eml" <<'EML'
From: Chloé <chloe@customer.example>
To: Alice <alice@example.com>
Subject: Renewal
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <renewal-1@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello Alice
EML
# An attachment, to be downloaded: its bytes are stored only inside the raw message.
cat >"$work/m2.eml" <<'EML'
From: Chloé <chloe@customer.example>
To: Alice <alice@example.com>
Subject: Price list
Date: Mon, 02 Nov 2026 10:00:00 +0000
Message-ID: <prices-1@customer.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

The price list is attached.
--b1
Content-Type: text/csv; name="=?utf-8?q?Preis=C3=BCbersicht?=.csv"
Content-Disposition: attachment; filename*=utf-8''Preis%C3%BCbersicht.csv
Content-Transfer-Encoding: base64

cHJvZHVjdCxwcmljZQpmbGVldCwxMjAwCnN1cHBvcnQsMzAwCg==
--b1--
EML
# One message in Alice's and Bob's mailboxes: each one's read state is their own (issue 19).
cat >"$work/m3.eml" <<'EML'
From: Dora <dora@partner.example>
To: Alice <alice@example.com>, Bob <bob@example.com>
Subject: Joint visit
Date: Sun, 01 Nov 2026 08:00:00 +0000
Message-ID: <visit-1@partner.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Shall we meet both of you on Friday?
EML
"$dcs/seed.sh" "$dc" alice "$work/m3.eml" >/dev/null
"$dcs/seed.sh" "$dc" bob "$work/m3.eml" >/dev/null
"$dcs/seed.sh" "$dc" alice "$work/m1.eml" >/dev/null
"$dcs/seed.sh" "$dc" alice "$work/m2.eml" >/dev/null
CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/etc/crm.toml" 2>>"$work/maild.log" & pid=$!
CRM_TEST_CTL=$ctl python3 "$root/tests/integration/api_test.py" "http://127.0.0.1:$http_port" "$work" "$DOVEADM" "$IMAPS_PORT" "$pid"
rc=$?
if [ $rc -ne 0 ]; then echo "--- tail of maild.log"; tail -n 30 "$work/maild.log"; fi
exit $rc
