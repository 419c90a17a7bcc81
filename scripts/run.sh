#!/usr/bin/env bash
# The one command that sets up and runs the main job on a fresh Debian 12 machine: installs the
# Debian packages, builds, and runs the daemon crm-maild syncing mailboxes into the embedded
# SQLite CRM database.
#
# - With CRM_MAIL_CONFIG=/path/crm-mail.toml (real accounts): validates it and runs crm-maild on it
#   in the foreground.
# - Without it (the demo): starts a local Dovecot on 127.0.0.1 seeded with the sample mailbox
#   (sample/mail/alice), imports the sample CRM records (sample/crm/*.csv) into var/crm-mail.db,
#   writes var/demo/crm-mail.toml for alice's account, starts crm-maild, prints the deals with
#   their conversations and the unsorted queue once the first sync is done, and keeps syncing
#   until Ctrl-C (or for CRM_RUN_SECONDS seconds). Mail delivered to the demo server meanwhile
#   reaches the CRM within seconds (IDLE); the script prints the command that delivers more.
# - CRM_MAIL_BACKEND=postgresql (the demo on the shared-database backend): the same, but the CRM
#   database is a throwaway PostgreSQL 15 (initdb in var/demo/pg, on 127.0.0.1) and two crm-maild
#   workers share it (web pages on CRM_HTTP_PORT and the port after it); `crm-mailctl workers`
#   shows which worker holds the account.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/install-deps.sh
scripts/build.sh release
maild=$root/build/release/src/daemon/crm-maild
ctl=$root/build/release/src/ctl/crm-mailctl

if [ -n "${CRM_MAIL_CONFIG:-}" ]; then
  "$ctl" config check "$CRM_MAIL_CONFIG"
  exec "$maild" --config "$CRM_MAIL_CONFIG"
fi

backend=${CRM_MAIL_BACKEND:-sqlite}
case "$backend" in
  sqlite | postgresql) ;;
  *) echo "run.sh: CRM_MAIL_BACKEND must be sqlite or postgresql, not '$backend'" >&2; exit 2 ;;
esac
demo=$root/var/demo
db=$root/var/crm-mail.db
mkdir -p "$demo"
if [ "$backend" = postgresql ]; then
  bash tests/integration/postgres/pg.sh start "$demo/pg" >/dev/null
  pg_url=$(cat "$demo/pg/url")
  pg_port=${pg_url##*:}; pg_port=${pg_port%%/*}
  # The password stays out of the configuration: password_file names pg.sh's file.
  database_toml="url = \"postgresql://crm_test@127.0.0.1:$pg_port/crm_test\"
password_file = \"$demo/pg/password\"
lease_seconds = 15"
else
  database_toml="path = \"$db\""
fi
bash tests/integration/dovecot/demo.sh "$demo/dovecot" >/dev/null
# shellcheck disable=SC1091
source "$demo/dovecot/env"
# A local Postfix delivering into that Dovecot, so replies sent from the page really arrive.
pfenv=$(bash tests/integration/postfix/start.sh "$demo/postfix" "$demo/dovecot" 2>/dev/null)
# shellcheck disable=SC1090
source "$pfenv"
printf 'alice-pw' >"$demo/alice.password"
chmod 600 "$demo/alice.password"
http_port=${CRM_HTTP_PORT:-8025}
cat >"$demo/crm-mail.toml" <<TOML
# Demo configuration written by scripts/run.sh: one account on the local demo Dovecot/Postfix.
[database]
$database_toml

[http]
bind = "127.0.0.1"
port = $http_port

[[accounts]]
name = "alice"
owner_id = 1
address = "alice@acme-sales.example"
poll_interval = 60

[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "alice"
auth = "password"
password_file = "$demo/alice.password"

[accounts.smtp]
host = "127.0.0.1"
port = $SMTPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "alice"
password_file = "$demo/alice.password"
TOML
"$ctl" config check "$demo/crm-mail.toml"
export CRM_MAIL_CONFIG=$demo/crm-mail.toml
[ "$backend" = sqlite ] && export CRM_MAIL_DB=$db
"$ctl" db migrate >/dev/null
for kind in users companies contacts deals; do
  "$ctl" crm import "$kind" "sample/crm/$kind.csv"
done
# Demo logins for the thread view: every sample user gets "<first name>-demo-pw".
for u in 1:alice 2:bob 3:carol; do
  printf '%s-demo-pw\n' "${u#*:}" | "$ctl" users password "${u%%:*}" --password-stdin >/dev/null
done

pids=()
"$maild" --config "$demo/crm-mail.toml" 2>"$root/var/crm-maild.log" &
pids+=($!)
if [ "$backend" = postgresql ]; then
  # The second worker: the same configuration but for its web page's port.
  sed "s/^port = $http_port\$/port = $((http_port + 1))/" "$demo/crm-mail.toml" >"$demo/crm-mail-2.toml"
  "$maild" --config "$demo/crm-mail-2.toml" 2>"$root/var/crm-maild-2.log" &
  pids+=($!)
fi
pid=${pids[0]}
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  bash tests/integration/postfix/stop.sh "$demo/postfix" >/dev/null 2>&1 || true
  bash tests/integration/dovecot/stop.sh "$demo/dovecot" >/dev/null 2>&1 || true
  [ "$backend" = postgresql ] && bash tests/integration/postgres/pg.sh stop "$demo/pg" >/dev/null 2>&1
  true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

stored() { # messages stored from the demo INBOX
  local q="SELECT count(*) FROM locations l JOIN mailboxes m ON m.id = l.mailbox_id WHERE m.name = 'INBOX'"
  if [ "$backend" = postgresql ]; then
    psql -qtAX "$pg_url" -c "$q" 2>/dev/null || echo 0
  else
    sqlite3 "$db" "$q" 2>/dev/null || echo 0
  fi
}

# Wait for the first sync of the demo INBOX (at most 60 s).
want=$($DOVEADM search -u alice mailbox INBOX all | wc -l)
for _ in $(seq 1 300); do
  have=$(stored)
  [ "$have" -ge "$want" ] && break
  sleep 0.2
done
"$ctl" accounts status
echo
if [ "$backend" = postgresql ]; then
  "$ctl" workers
  echo
  echo "The thread view: http://127.0.0.1:$http_port/ and http://127.0.0.1:$((http_port + 1))/ (either"
  echo "worker serves it; alice@acme-sales.example / alice-demo-pw, admin carol@acme-sales.example /"
  echo "carol-demo-pw). Logs: var/crm-maild.log and var/crm-maild-2.log. Stop with Ctrl-C."
  if [ -n "${CRM_RUN_SECONDS:-}" ]; then sleep "$CRM_RUN_SECONDS"; else wait "$pid"; fi
  exit 0
fi
"$ctl" deals list
echo; echo "== Conversations (deal or unsorted reason)"
"$ctl" threads list
echo; echo "== Unsorted queue"
"$ctl" threads list --unsorted
echo
echo "The thread view: http://127.0.0.1:$http_port/  (alice@acme-sales.example / alice-demo-pw,"
echo "admin carol@acme-sales.example / carol-demo-pw)"
echo "crm-maild is syncing (log: var/crm-maild.log). Deliver more mail to the demo server with:"
echo "  bash tests/integration/dovecot/seed.sh $demo/dovecot alice FILE.eml"
echo "Stop with Ctrl-C."
if [ -n "${CRM_RUN_SECONDS:-}" ]; then
  sleep "$CRM_RUN_SECONDS"
else
  wait "$pid"
fi
