#!/usr/bin/env bash
# End-to-end tests of crm-maild against a real, throwaway Dovecot (tests/integration/dovecot):
#   - several accounts synced at once (implicit TLS + ca_file, STARTTLS, plaintext loopback,
#     XOAUTH2 with token_file added by SIGHUP), location counts = server counts, no duplicates,
#     the same mail in two accounts stored once with two locations
#   - new mail via IDLE (latency printed), flags changed elsewhere, expunge (QRESYNC's VANISHED),
#     UIDVALIDITY change
#   - a wrong password (needs_reauth / net.auth) while the others keep syncing
#   - SIGHUP adds an account without restarting the others; SIGTERM exits 0 quickly
#   - crash safety: CRM_CRASH_AT at every crash point, and random-moment SIGKILLs, then restart:
#     the database holds exactly the server's messages and the checkpoint equals UIDNEXT
#   - no password or token in any log
#   daemon_test.sh CRM_MAILD CRM_MAILCTL REPO_ROOT
# CRM_TEST_BACKEND=postgresql runs the same against a throwaway PostgreSQL 15
# (tests/integration/postgres/pg.sh; a database per SQLite file, lease_seconds = 5 so that a
# restarted worker takes over a killed one's accounts quickly).
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (not root, tool missing).
# CRM_TEST_KEEP=1 keeps the temp dir.
set -u
maild=$1
ctl=$2
root=$3
dcs=$root/tests/integration/dovecot

# shellcheck source=lib.sh
. "$root/tests/integration/lib.sh"
need_root_and dovecot doveadm sqlite3 python3 openssl
backend=${CRM_TEST_BACKEND:-sqlite}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
case "$backend" in
  sqlite) ;;
  postgresql)
    [ -x "$PG_BIN/initdb" ] || { echo "SKIP: no PostgreSQL 15 in $PG_BIN"; exit 77; }
    id postgres >/dev/null 2>&1 || { echo "SKIP: no postgres system user"; exit 77; } ;;
  *) echo "daemon_test: unknown CRM_TEST_BACKEND $backend"; exit 2 ;;
esac

work=$(mktemp -d /tmp/crm-daemontest.XXXXXX)
chmod 0755 "$work" # the dovecot mail uid must traverse it
dc=$work/dc
pids=()
log_tail=25
pgd=$work/pg

cleanup() {
  [ "$backend" = postgresql ] && "$root/tests/integration/postgres/pg.sh" stop "$pgd" >/dev/null 2>&1
  cleanup_dovecot_test
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$backend" = postgresql ]; then
  if ! "$root/tests/integration/postgres/pg.sh" start "$pgd" >"$work/pg-start.out" 2>&1; then
    bad "PostgreSQL start: $(tail -5 "$work/pg-start.out")"; finish
  fi
  pg_port=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' "$pgd/url")
  pg_pw=$(cat "$pgd/password")
  pg_super=$(sed 's|crm_test@|postgres@|; s|/crm_test?|/postgres?|' "$pgd/socket_url")
fi

check() { # description command...
  local what=$1; shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# --- Dovecot and mail --------------------------------------------------------------------------
if ! envfile=$("$dcs/start.sh" "$dc" --users "dave erin frank" 2>"$work/dc-start.err"); then
  bad "dovecot start: $(cat "$work/dc-start.err")"; finish
fi
# shellcheck disable=SC1090
. "$envfile"

src=$work/src
mkdir -p "$src"
maildir_of() { # dir files...: a Maildir holding copies of the files
  local d=$1; shift
  mkdir -p "$d/cur" "$d/new" "$d/tmp"
  cp "$@" "$d/cur/"
}
mbox_head() { # mbox n out: the first n messages of an mbox
  python3 - "$@" <<'EOF'
import mailbox, sys
src = mailbox.mbox(sys.argv[1], create=False)
out = mailbox.mbox(sys.argv[3])
for i, key in enumerate(src.keys()):
    if i >= int(sys.argv[2]):
        break
    out.add(src.get_message(key))
out.flush()
EOF
}
mapfile -t nm < <(find "$root/tests/data/corpora/notmuch-default/cur" -maxdepth 1 -type f | sort)
maildir_of "$src/shared" "${nm[@]:0:3}"    # in alice and bob
maildir_of "$src/bob" "${nm[@]:3:9}"
maildir_of "$src/customer" "${nm[@]:12:13}"
mbox_head "$root/tests/data/corpora/sling-mail-archive/mbox/jackrabbit-dev-201309.mbox" 40 "$src/carol.mbox"
mbox_head "$root/tests/data/corpora/sling-mail-archive/mbox/sling-dev-201203.mbox" 120 "$src/dave.mbox"

seed() { "$dcs/seed.sh" "$dc" "$@" >>"$work/seed.out" 2>&1 || bad "seed.sh $*: $(tail -3 "$work/seed.out")"; }
t0=$(now_ms)
seed alice "$root/sample/mail/alice" "$src/shared"
seed bob "$src/shared" "$src/bob"
seed carol "$src/carol.mbox"
seed customer "$src/customer"
seed dave "$src/dave.mbox"
# frank: every message of the four list archives, written straight into his Maildir (faster
# than one doveadm save each); Dovecot assigns the UIDs when the folder is first opened.
python3 - "$dc/mail/frank" "$root"/tests/data/corpora/sling-mail-archive/mbox/*.mbox <<'EOF' || bad "frank's Maildir"
import mailbox, os, sys
dest = sys.argv[1]
for sub in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(dest, sub), exist_ok=True)
n = 0
for path in sys.argv[2:]:
    box = mailbox.mbox(path, create=False)
    for key in box.keys():
        n += 1
        with open(os.path.join(dest, "cur", "%d.M%dP1.daemontest:2," % (1700000000 + n, n)), "wb") as f:
            f.write(box.get_bytes(key, from_=False))
EOF
chown -R "$MAIL_USER:$MAIL_USER" "$dc/mail/frank"
echo "seeded in $(($(now_ms) - t0)) ms; frank has $($DOVEADM search -u frank mailbox INBOX all | wc -l) messages"

server_count() { $DOVEADM search -u "$1" mailbox INBOX all | wc -l; }
server_uidnext() { $DOVEADM -f flow mailbox status -u "$1" uidnext INBOX | sed -n 's/.*uidnext=\([0-9]*\).*/\1/p'; }
server_uidvalidity() { $DOVEADM -f flow mailbox status -u "$1" uidvalidity INBOX | sed -n 's/.*uidvalidity=\([0-9]*\).*/\1/p'; }
server_ids() { # Message-IDs of USER's INBOX, one per message (without <>), sorted
  $DOVEADM fetch -u "$1" 'hdr.message-id' mailbox INBOX all | python3 -c '
import re, sys
for block in sys.stdin.read().split("\f"):
    m = re.search(r"<([^<>]+)>", block)
    if m:
        print(m.group(1).strip())' | LC_ALL=C sort
}

# --- database and config ------------------------------------------------------------------------
secrets=$work/secrets
mkdir -p "$secrets"
chmod 0700 "$secrets"
for u in alice bob carol dave erin frank; do printf '%s-pw\n' "$u" >"$secrets/$u"; done
printf 'customer-token\n' >"$secrets/customer-token"
wrong_pw="mallory-Wr0ng-s3cret"
printf '%s\n' "$wrong_pw" >"$secrets/mallory"
chmod 0600 "$secrets"/*
all_secrets=(alice-pw bob-pw carol-pw dave-pw erin-pw frank-pw customer-token "$wrong_pw")

# $db: a SQLite file, or (PostgreSQL) the name of a database of the test server.
q() {
  if [ "$backend" = postgresql ]; then
    PGPASSWORD=$pg_pw psql -qtAX -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U crm_test -d "$db" -c "$*"
  else
    sqlite3 -batch -noheader -cmd ".timeout 5000" "$db" "$@"
  fi
}
dbs=()
acct_id() { q "SELECT id FROM accounts WHERE name = '$1'"; }
loc_count() { # account: locations in its INBOX
  q "SELECT count(*) FROM locations l JOIN mailboxes b ON b.id = l.mailbox_id
     JOIN accounts a ON a.id = l.account_id WHERE a.name = '$1' AND b.name = 'INBOX'"
}
db_uidnext() { q "SELECT uid_next FROM mailboxes b JOIN accounts a ON a.id = b.account_id WHERE a.name = '$1' AND b.name = 'INBOX'"; }
db_state() { q "SELECT state FROM accounts WHERE name = '$1'"; }
db_ids() { # account: Message-IDs of its INBOX locations, sorted
  q "SELECT m.message_id FROM locations l JOIN mailboxes b ON b.id = l.mailbox_id
     JOIN accounts a ON a.id = l.account_id JOIN messages m ON m.id = l.message_id
     WHERE a.name = '$1' AND b.name = 'INBOX' AND m.synthetic_id = 0" | LC_ALL=C sort
}
dup_messages() { q "SELECT count(*) FROM (SELECT 1 FROM messages GROUP BY message_id, content_hash HAVING count(*) > 1) AS dup"; }
dup_locations() { q "SELECT count(*) FROM (SELECT 1 FROM locations WHERE mailbox_id IS NOT NULL GROUP BY mailbox_id, uid_validity, uid HAVING count(*) > 1) AS dup"; }
# synced ACCOUNT USER: idle, every server message has a location, checkpoint at the server's UIDNEXT
synced() {
  [ "$(db_state "$1")" = idle ] && [ "$(loc_count "$1")" = "$(server_count "$2")" ] &&
    [ "$(db_uidnext "$1")" = "$(server_uidnext "$2")" ]
}

new_db() { # path: migrated, with the sample CRM users (PostgreSQL: a database named after it)
  db=$1
  local how=(--db "$db")
  if [ "$backend" = postgresql ]; then
    db=$(basename "$1" .db | tr -c 'a-z0-9\n' '_')
    # SQLite's group_concat() and instr(), which the checks below use.
    (cd / && runuser -u postgres -- psql -qX -v ON_ERROR_STOP=1 "$pg_super" \
      -c "CREATE DATABASE $db OWNER crm_test" >/dev/null 2>>"$work/ctl.err") &&
      q "CREATE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS
           'SELECT strpos(\$1, \$2)';
         CREATE FUNCTION gc_step(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS
           'SELECT CASE WHEN \$1 IS NULL THEN \$2 WHEN \$2 IS NULL THEN \$1 ELSE \$1 || '','' || \$2 END';
         CREATE AGGREGATE group_concat(text) (sfunc = gc_step, stype = text);" >/dev/null ||
      bad "could not create PostgreSQL database $db"
    config_head "$db" >"$work/ctl-$db.toml"
    how=(--config "$work/ctl-$db.toml")
  fi
  dbs+=("$db")
  "$ctl" "${how[@]}" db migrate >/dev/null 2>>"$work/ctl.err" &&
    "$ctl" "${how[@]}" crm import users "$root/sample/crm/users.csv" >/dev/null 2>>"$work/ctl.err" ||
    bad "crm-mailctl could not prepare $db: $(tail -3 "$work/ctl.err")"
}

config_head() { # db [log_level]
  if [ "$backend" = postgresql ]; then
    cat <<EOF2
[database]
url = "postgresql://crm_test@127.0.0.1:$pg_port/$1"
password_file = "$pgd/password"
lease_seconds = 5
EOF2
  else
    cat <<EOF2
[database]
path = "$1"
EOF2
  fi
  cat <<EOF
[daemon]
log_level = "${2:-debug}"

EOF
}
account() { # name user tls port auth secret_file batch [extra toml lines]
  local name=$1 user=$2 tls=$3 port=$4 auth=$5 secret=$6 batch=$7 extra=${8:-}
  cat <<EOF
[[accounts]]
name = "$name"
owner_id = 1
address = "$user@example.test"
poll_interval = 10
initial_sync_days = 0
batch_messages = $batch
$extra

[accounts.imap]
host = "127.0.0.1"
port = $port
tls = "$tls"
username = "$user"
auth = "$auth"
EOF
  if [ "$tls" = none ]; then echo "allow_insecure = true"; else echo "ca_file = \"$CA_FILE\""; fi
  if [ "$auth" = xoauth2 ]; then echo "token_file = \"$secret\""; else echo "password_file = \"$secret\""; fi
  echo
}

daemon_pid=""
start_daemon() { # config log [VAR=value...]
  local cfg=$1 log=$2; shift 2
  env CRM_TEST_FAST_RETRY=1 "$@" "$maild" --config "$cfg" >>"$log" 2>&1 </dev/null &
  daemon_pid=$!
  pids+=("$daemon_pid")
}

# =================================================================================================
# Part 1: several accounts at once
# =================================================================================================
new_db "$work/main.db"
main_db=$db
cfg=$work/main.toml
log=$work/main.log
{
  config_head "$main_db"
  account alice alice implicit "$IMAPS_PORT" password "$secrets/alice" 200
  account bob bob starttls "$IMAP_PORT" password "$secrets/bob" 200
  account carol carol none "$IMAP_PORT" password "$secrets/carol" 200
  account mallory erin implicit "$IMAPS_PORT" password "$secrets/mallory" 200
} >"$cfg"
check "config is valid (--check)" "$maild" --config "$cfg" --check
t0=$(now_ms)
start_daemon "$cfg" "$log"
main_pid=$daemon_pid
all_synced() { synced alice alice && synced bob bob && synced carol carol; }
if wait_until 60 all_synced; then
  ok "alice (imaps), bob (starttls), carol (plaintext) synced in $(($(now_ms) - t0)) ms"
else
  bad "initial sync of three accounts: states $(q "SELECT name, state, last_error FROM accounts")"
fi
for u in alice bob carol; do
  expect_eq "$(loc_count "$u")" "$(server_count "$u")" "$u: locations = server messages ($(server_count "$u"))"
  expect_eq "$(db_ids "$u")" "$(server_ids "$u")" "$u: Message-IDs equal the server's"
done
expect_eq "$(dup_messages)" 0 "no duplicate messages (message_id, content_hash)"
expect_eq "$(dup_locations)" 0 "no duplicate locations"
# The three notmuch messages seeded into alice and bob: one message row each, two locations.
for f in "${nm[@]:0:3}"; do
  mid=$(python3 -c 'import email,sys,re; m=email.message_from_binary_file(open(sys.argv[1],"rb")); print(re.search(r"<([^<>]+)>", m["Message-ID"]).group(1))' "$f")
  got=$(q "SELECT count(DISTINCT m.id) || ' ' || count(l.id) || ' ' || group_concat(DISTINCT a.name)
           FROM messages m JOIN locations l ON l.message_id = m.id JOIN accounts a ON a.id = l.account_id
           WHERE m.message_id = '$mid'")
  case $got in
    "1 2 alice,bob" | "1 2 bob,alice") ok "shared $mid: one message, two locations" ;;
    *) bad "shared $mid: want 1 message with locations in alice and bob, got '$got'" ;;
  esac
done

# A wrong password: needs_reauth / net.auth, the others unaffected.
mallory_auth() { [ "$(q "SELECT state || ' ' || coalesce(last_error_class, '') FROM accounts WHERE name = 'mallory'")" = "needs_reauth net.auth" ]; }
if wait_until 30 mallory_auth; then ok "wrong password: mallory needs_reauth, net.auth"
else bad "wrong password: mallory is $(q "SELECT state, last_error_class, last_error FROM accounts WHERE name = 'mallory'")"; fi
expect_eq "$(q "SELECT group_concat(state) FROM (SELECT state FROM accounts WHERE name IN ('alice','bob','carol') ORDER BY name) AS s")" \
  "idle,idle,idle" "the other accounts stay idle"

# --- SIGHUP: a fourth account (XOAUTH2 with token_file); mallory's password file fixed --------
mark=$(stat -c %s "$log")
account customer customer implicit "$IMAPS_PORT" xoauth2 "$secrets/customer-token" 200 >>"$cfg"
printf 'erin-pw\n' >"$secrets/mallory"
t0=$(now_ms)
kill -HUP "$main_pid"
if wait_until 30 synced customer customer; then
  ok "SIGHUP: customer (xoauth2, token_file) synced in $(($(now_ms) - t0)) ms"
else
  bad "SIGHUP: customer not synced: $(q "SELECT state, last_error FROM accounts WHERE name = 'customer'")"
fi
if wait_until 20 synced mallory erin; then
  ok "SIGHUP: mallory logs in with the corrected password file ($(($(now_ms) - t0)) ms)"
else
  bad "SIGHUP: mallory still $(q "SELECT state, last_error_class FROM accounts WHERE name = 'mallory'") after its password file was fixed"
fi
expect_eq "$(db_ids customer)" "$(server_ids customer)" "customer: Message-IDs equal the server's"
tail -c +"$((mark + 1))" "$log" >"$work/reload.part"
check "SIGHUP logged" grep -q "event=reload: SIGHUP" "$work/reload.part"
check "SIGHUP: customer connected" grep -q "account=customer event=connect" "$work/reload.part"
check "SIGHUP: mallory restarted for its new secret" grep -q "account=mallory event=reload: secret changed" "$work/reload.part"
if grep -E "account=(alice|bob|carol) .*event=(connect|reload|stopped)" "$work/reload.part" >"$work/restarted"; then
  bad "SIGHUP restarted unchanged accounts: $(head -3 "$work/restarted")"
else
  ok "SIGHUP: alice, bob, carol kept their sessions"
fi
check "daemon still running after SIGHUP" kill -0 "$main_pid"

# --- new mail while idling ---------------------------------------------------------------------
latencies=()
for i in 1 2 3; do
  mid="idle-$i-$$-$(now_ms)@daemontest.example"
  printf 'From: Idle Tester <idle@example.test>\r\nTo: alice@example.test\r\nSubject: idle %s\r\nMessage-ID: <%s>\r\nDate: %s\r\n\r\nbody %s\r\n' \
    "$i" "$mid" "$(date -R)" "$i" >"$work/idle.eml"
  t0=$(now_ms)
  $DOVEADM save -u alice -m INBOX <"$work/idle.eml"
  has_mid() { [ "$(q "SELECT count(*) FROM messages m JOIN locations l ON l.message_id = m.id WHERE m.message_id = '$mid'")" = 1 ]; }
  if wait_until 20 has_mid; then
    latencies+=("$(($(now_ms) - t0))")
  else
    bad "new mail $i did not arrive within 20 s"
  fi
  sleep 0.$((RANDOM % 9 + 1)) # vary the moment relative to Dovecot's IDLE checks
done
if [ ${#latencies[@]} -eq 3 ]; then
  max=0; for l in "${latencies[@]}"; do [ "$l" -gt "$max" ] && max=$l; done
  echo "IDLE latency (doveadm save -> row in the database): ${latencies[*]} ms"
  if [ "$max" -le 5000 ]; then ok "new mail stored within 5 s (max $max ms)"; else bad "new mail took $max ms"; fi
fi
wait_until 20 synced alice alice || bad "alice not synced after new mail"

# --- flags changed elsewhere -------------------------------------------------------------------
read -r fuid fmsg < <(q "SELECT l.uid, m.id FROM locations l JOIN messages m ON m.id = l.message_id
  JOIN accounts a ON a.id = l.account_id WHERE a.name = 'alice' AND m.unread = 1
  AND (SELECT count(*) FROM locations x WHERE x.message_id = m.id) = 1 ORDER BY l.uid LIMIT 1" | tr '|' ' ')
unread_is() { [ "$(q "SELECT unread FROM messages WHERE id = $fmsg")" = "$1" ]; }
if [ -n "${fuid:-}" ]; then
  t0=$(now_ms)
  $DOVEADM flags add -u alice '\Seen' mailbox INBOX uid "$fuid"
  if wait_until 20 unread_is 0; then ok "\\Seen added elsewhere -> read ($(($(now_ms) - t0)) ms)"; else bad "\\Seen on uid $fuid not mirrored"; fi
  t0=$(now_ms)
  $DOVEADM flags remove -u alice '\Seen' mailbox INBOX uid "$fuid"
  if wait_until 20 unread_is 1; then ok "\\Seen removed elsewhere -> unread ($(($(now_ms) - t0)) ms)"; else bad "\\Seen removal on uid $fuid not mirrored"; fi
else
  bad "no unread alice-only message to flag"
fi

# --- expunge -----------------------------------------------------------------------------------
read -r euid emsg < <(q "SELECT l.uid, m.id FROM locations l JOIN messages m ON m.id = l.message_id
  JOIN accounts a ON a.id = l.account_id WHERE a.name = 'alice' AND m.id != ${fmsg:-0}
  AND (SELECT count(*) FROM locations x WHERE x.message_id = m.id) = 1 ORDER BY l.uid DESC LIMIT 1" | tr '|' ' ')
msgs_before=$(q "SELECT count(*) FROM messages")
t0=$(now_ms)
$DOVEADM expunge -u alice mailbox INBOX uid "$euid"
no_location() { [ "$(q "SELECT count(*) FROM locations WHERE message_id = $emsg")" = 0 ]; }
if wait_until 20 no_location; then ok "expunged uid $euid: location gone ($(($(now_ms) - t0)) ms)"; else bad "expunged uid $euid still has a location"; fi
grep -q "expunged on the server (1 reported by QRESYNC)" "$log" \
  && ok "Dovecot offers QRESYNC: the expunge came as VANISHED, without a UID sweep" \
  || bad "the expunge was not reported by QRESYNC: $(grep expunge "$log" | tail -2)"
expect_eq "$(q "SELECT count(*) FROM messages WHERE id = $emsg")" 1 "expunged message keeps its row"
expect_eq "$(q "SELECT count(*) FROM messages")" "$msgs_before" "message count unchanged by expunge"
wait_until 20 synced alice alice && ok "alice synced after expunge" || bad "alice not synced after expunge"

# --- UIDVALIDITY change ------------------------------------------------------------------------
old_v=$(server_uidvalidity alice)
new_v=$((old_v + 1000))
msgs_before=$(q "SELECT count(*) FROM messages")
mark=$(stat -c %s "$log")
t0=$(now_ms)
$DOVEADM mailbox update -u alice --uid-validity "$new_v" INBOX
expect_eq "$(server_uidvalidity alice)" "$new_v" "doveadm changed UIDVALIDITY"
resynced() {
  [ "$(q "SELECT uid_validity FROM mailboxes b JOIN accounts a ON a.id = b.account_id WHERE a.name = 'alice' AND b.name = 'INBOX'")" = "$new_v" ] &&
    [ "$(q "SELECT count(*) FROM locations l JOIN accounts a ON a.id = l.account_id JOIN mailboxes b ON b.id = l.mailbox_id
           WHERE a.name = 'alice' AND b.name = 'INBOX' AND l.uid_validity != $new_v")" = 0 ] &&
    synced alice alice
}
if wait_until 40 resynced; then ok "UIDVALIDITY $old_v -> $new_v: resynced in $(($(now_ms) - t0)) ms"
else bad "UIDVALIDITY change not handled: mailbox $(q "SELECT uid_validity, uid_next FROM mailboxes WHERE name = 'INBOX' AND account_id = $(acct_id alice)"), $(loc_count alice) locations"; fi
tail -c +"$((mark + 1))" "$log" >"$work/uidv.part"
check "UIDVALIDITY change logged" grep -q "event=uidvalidity" "$work/uidv.part"
expect_eq "$(db_ids alice)" "$(server_ids alice)" "alice: Message-IDs equal the server's after UIDVALIDITY change"
expect_eq "$(q "SELECT count(*) FROM messages")" "$msgs_before" "message count unchanged by UIDVALIDITY change"
expect_eq "$(dup_messages)" 0 "no duplicate messages after UIDVALIDITY change"
expect_eq "$(dup_locations)" 0 "no duplicate locations after UIDVALIDITY change"
for u in bob carol customer mallory; do
  expect_eq "$(db_state "$u")" idle "$u still idle at the end"
done

# --- SIGTERM -----------------------------------------------------------------------------------
t0=$(now_ms)
kill -TERM "$main_pid"
if wait_exit "$main_pid" 10; then
  ms=$(($(now_ms) - t0))
  expect_eq "$exit_code" 0 "SIGTERM: exit code"
  if [ "$ms" -le 5000 ]; then ok "SIGTERM: stopped in $ms ms"; else bad "SIGTERM: took $ms ms"; fi
  check "SIGTERM: 'stopped cleanly' logged" grep -q "event=stop: stopped cleanly" "$log"
else
  bad "SIGTERM: still running after 10 s"
fi

# =================================================================================================
# Part 2: crash safety (dave: 120 messages, batches of 3)
# =================================================================================================
crash_cfg() { # db file [user]
  local u=${3:-dave}
  { config_head "$1" info; account "$u" "$u" implicit "$IMAPS_PORT" password "$secrets/$u" 3 'folders = ["INBOX"]'; } >"$2"
}
final_check() { # label [user [reference]]: restart, then the database holds exactly USER's server
  # messages; with a reference file (the messages of an uninterrupted sync), exactly those rows
  local label=$1 u=${2:-dave} ref=${3:-} t0
  t0=$(now_ms)
  start_daemon "$work/crash.toml" "$work/crash.log"
  if wait_until 90 synced "$u" "$u"; then
    restart_ms+=("$label=$(($(now_ms) - t0))")
    ok "$label: restart synced in $(($(now_ms) - t0)) ms"
  else
    bad "$label: not synced after restart: $(q "SELECT state, last_error FROM accounts"), $(loc_count "$u") locations, uid_next $(db_uidnext "$u")"
  fi
  expect_eq "$(db_ids "$u")" "$(server_ids "$u")" "$label: Message-IDs equal the server's (each once)"
  expect_eq "$(loc_count "$u")" "$(server_count "$u")" "$label: locations = server messages"
  if [ -n "$ref" ]; then
    expect_eq "$(q "SELECT message_id || ' ' || content_hash FROM messages ORDER BY 1" | md5sum)" "$(md5sum <"$ref")" \
      "$label: message rows identical to an uninterrupted sync"
  else
    expect_eq "$(q "SELECT count(*) FROM messages")" "$(server_count "$u")" "$label: one message row per server message"
  fi
  expect_eq "$(dup_messages)$(dup_locations)" 00 "$label: nothing stored twice"
  expect_eq "$(db_uidnext "$u")" "$(server_uidnext "$u")" "$label: uid_next = server UIDNEXT"
  kill -TERM "$daemon_pid"
  wait_exit "$daemon_pid" 10 && [ "$exit_code" = 0 ] || bad "$label: daemon did not stop cleanly (exit '$exit_code')"
}
dave_total=$(server_count dave)
restart_ms=()
for label in before-batch-commit during-batch after-batch-commit before-checkpoint after-checkpoint; do
  case $label in *batch*) skip=2 ;; *) skip=0 ;; esac
  new_db "$work/crash-$label.db"
  crash_cfg "$db" "$work/crash.toml"
  echo "=== crash at $label (skip $skip)" >>"$work/crash.log"
  start_daemon "$work/crash.toml" "$work/crash.log" CRM_CRASH_AT="$label" CRM_CRASH_SKIP="$skip"
  if wait_exit "$daemon_pid" 60; then
    expect_eq "$exit_code" 137 "$label: daemon killed itself with SIGKILL"
  else
    bad "$label: daemon did not crash within 60 s"; kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
  fi
  n=$(loc_count dave)
  case $label in
    before-batch-commit | during-batch) want=6 ;;   # two batches of 3 committed
    after-batch-commit) want=9 ;;                   # the third batch committed too
    *) want=$dave_total ;;                          # everything stored, checkpoint pending or done
  esac
  expect_eq "$n" "$want" "$label: locations at the crash"
  case $label in
    after-checkpoint) expect_eq "$(db_uidnext dave)" "$(server_uidnext dave)" "$label: checkpoint written before the crash" ;;
    *) expect_eq "$(db_uidnext dave)" "" "$label: no checkpoint before the crash" ;;
  esac
  final_check "$label"
done

# A crash while new mail is stored after the initial sync: crash at the first batch commit after
# the initial sync's batches (ceil(total / 3)), then restart.
new_db "$work/crash-new-mail.db"
crash_cfg "$db" "$work/crash.toml"
echo "=== crash during new mail" >>"$work/crash.log"
start_daemon "$work/crash.toml" "$work/crash.log" CRM_CRASH_AT=after-batch-commit CRM_CRASH_SKIP=$(((dave_total + 2) / 3))
wait_until 60 synced dave dave || bad "new-mail crash: initial sync did not finish"
for i in 1 2 3 4 5; do
  printf 'From: New <new@example.test>\r\nTo: dave@example.test\r\nSubject: new %s\r\nMessage-ID: <new-%s-%s@daemontest.example>\r\n\r\nnew mail %s\r\n' \
    "$i" "$i" "$$" "$i" | $DOVEADM save -u dave -m INBOX
done
if wait_exit "$daemon_pid" 30; then
  expect_eq "$exit_code" 137 "new-mail crash: killed at the first batch of new mail"
  # One batch of new mail committed: up to 3 (IDLE may wake the daemon before all 5 are saved).
  n=$(loc_count dave)
  if [ "$n" -gt "$dave_total" ] && [ "$n" -le "$((dave_total + 3))" ]; then
    ok "new-mail crash: one batch of new mail committed ($((n - dave_total)) messages)"
  else
    bad "new-mail crash: $n locations, want $((dave_total + 1))..$((dave_total + 3))"
  fi
  expect_eq "$(db_uidnext dave)" "$((dave_total + 1))" "new-mail crash: checkpoint still at the old UIDNEXT"
else
  bad "new-mail crash: daemon did not crash within 30 s"; kill -KILL "$daemon_pid"; wait "$daemon_pid" 2>/dev/null
fi
dave_total=$(server_count dave)
final_check new-mail

# Random moments: frank has the four list archives (986 messages, written straight into his
# Maildir), batches of 3, so that kill -9 after 50..500 ms lands in the middle of the sync.
# Reference: one uninterrupted sync.
new_db "$work/frank-ref.db"
crash_cfg "$db" "$work/crash.toml" frank
t0=$(now_ms)
start_daemon "$work/crash.toml" "$work/crash.log"
if wait_until 120 synced frank frank; then
  echo "frank: uninterrupted sync of $(server_count frank) messages in $(($(now_ms) - t0)) ms"
else
  bad "frank: reference sync did not finish"
fi
kill -TERM "$daemon_pid"; wait_exit "$daemon_pid" 10
q "SELECT message_id || ' ' || content_hash FROM messages ORDER BY 1" >"$work/frank.ref"
# SIGTERM in the middle of the sync: a clean exit, and the restart completes the sync.
new_db "$work/sigterm-midsync.db"
crash_cfg "$db" "$work/crash.toml" frank
start_daemon "$work/crash.toml" "$work/crash.log"
sleep 0.3
n=$(loc_count frank)
t0=$(now_ms)
kill -TERM "$daemon_pid"
if wait_exit "$daemon_pid" 10; then
  expect_eq "$exit_code" 0 "SIGTERM mid-sync (after $n of $(server_count frank) stored): exit 0 in $(($(now_ms) - t0)) ms"
else
  bad "SIGTERM mid-sync: still running after 10 s"
fi
final_check sigterm-midsync frank "$work/frank.ref"

for round in 1 2 3; do
  new_db "$work/random-$round.db"
  crash_cfg "$db" "$work/crash.toml" frank
  at=()
  for k in 1 2 3; do
    ms=$((50 + RANDOM % 451))
    echo "=== random kill round $round.$k after $ms ms" >>"$work/crash.log"
    start_daemon "$work/crash.toml" "$work/crash.log"
    sleep "$(printf '0.%03d' "$ms")"
    kill -KILL "$daemon_pid"
    wait "$daemon_pid" 2>/dev/null
    at+=("${ms}ms->$(loc_count frank)")
  done
  echo "random kills round $round: ${at[*]} (kill moment -> locations stored, of $(server_count frank))"
  final_check "random-$round" frank "$work/frank.ref"
done
echo "restart-to-synced times (ms): ${restart_ms[*]}"

# =================================================================================================
# Part 3: secrets never logged
# =================================================================================================
logs=("$work"/*.log "$dc/dovecot.log")
leaks=0
for s in "${all_secrets[@]}"; do
  if grep -lF -- "$s" "${logs[@]}" 2>/dev/null >"$work/leak"; then
    bad "secret '$s' appears in $(tr '\n' ' ' <"$work/leak")"; leaks=1
  fi
  for db in "${dbs[@]}"; do
    if [ "$(q "SELECT count(*) FROM accounts WHERE instr(coalesce(last_error, ''), '$s') > 0")" != 0 ]; then
      bad "secret '$s' in accounts.last_error of $db"; leaks=1
    fi
  done
done
[ "$leaks" = 0 ] && ok "no password or token in ${#logs[@]} logs or accounts.last_error"
grep -q "event=" "$work/main.log" && ok "daemon logs were produced (debug level)" || bad "no daemon log"

finish
