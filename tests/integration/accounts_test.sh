#!/usr/bin/env bash
# crm-mailctl accounts add|edit|remove|list|test|resync|status on a temp config and database:
# the round trip keeps comments and passes `config check`; duplicates and bad hosts are refused
# without writing anything; the secret goes to a 0600 file and is never printed; resync clears
# the checkpoints; test reports the failing step with exit 1 (and succeeds against a server that
# logs in); status shows initial-sync rate and ETA.
# Usage: accounts_test.sh CRM_MAILCTL SOURCE_DIR
set -u
ctl=$1
root=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
pass=0
failn=0
ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_code() { # expected_code description command...
  local want=$1 what=$2; shift 2
  "$@" >"$work/out" 2>"$work/err" </dev/null
  local got=$?
  cat "$work/out" "$work/err" >>"$work/all-output"
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stdout: $(cat "$work/out") stderr: $(cat "$work/err")"; fi
}
expect_grep() { # pattern file description
  if grep -qE -- "$1" "$2"; then ok; else bad "$3: /$1/ not in $2: $(head -c 600 "$2")"; fi
}
expect_no_grep() {
  if grep -qE -- "$1" "$2"; then bad "$3: /$1/ found in $2"; else ok; fi
}
expect_eq() { if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi; }

cfg=$work/etc/crm-mail.toml
db=$work/crm.db
mkdir -p "$work/etc"
# The documented template, pointed at a scratch database.
sed "s|^path = .*|path = \"$db\"|" "$root/config/crm-mail.toml.example" >"$cfg"
c() { "$ctl" --config "$cfg" "$@"; }
secret='Pa55-w0rd-Never-Printed'
printf '%s\n' "$secret" >"$work/pw"

expect_code 0 "accounts add --help" "$ctl" accounts add --help
expect_grep '^Usage: crm-mailctl .*accounts add NAME' "$work/out" "add usage"
expect_code 0 "list the template" c accounts list
expect_grep '^alice <alice@example.com>' "$work/out" "alice listed"
expect_grep '^bob <bob@example.org>' "$work/out" "bob listed"

# add: secret from a file, stored next to the config, 0600, referenced by password_file
expect_code 0 "add carol" c accounts add carol --owner 3 --address carol@example.net \
  --imap-host imap.example.net --tls starttls --password-file "$work/pw"
expect_grep "added account carol" "$work/out" "add message"
expect_eq "$(stat -c %a "$work/etc/secrets/carol" 2>/dev/null)" "600" "secret file mode"
expect_eq "$(stat -c %a "$work/etc/secrets" 2>/dev/null)" "700" "secrets directory mode"
expect_eq "$(cat "$work/etc/secrets/carol" 2>/dev/null)" "$secret" "secret file content"
expect_grep "^password_file = \"$work/etc/secrets/carol\"$" "$cfg" "config references the file"
expect_no_grep "$secret" "$cfg" "secret not inline"
expect_grep '^# Required. Unique; 1-64 characters' "$cfg" "comments kept"
expect_code 0 "config check after add" c config check
expect_grep '3 account\(s\)' "$work/out" "three accounts"
expect_code 0 "list after add" c accounts list
expect_grep '^carol <carol@example.net> owner 3$' "$work/out" "carol listed"
expect_grep 'imap: imap.example.net:143 tls=starttls user=carol@example.net secret: file ' "$work/out" "carol's server, default port"
# --config may also come from the environment
CRM_MAIL_CONFIG=$cfg expect_code 0 "list via CRM_MAIL_CONFIG" "$ctl" accounts list
expect_grep '^carol ' "$work/out" "CRM_MAIL_CONFIG honoured"

# add from stdin, and with a systemd credential (nothing stored)
printf 'stdin-secret-9876\n' | c accounts add dave --owner 4 --address dave@example.net \
  --imap-host 127.0.0.1 --imap-port 1 --password-stdin >"$work/out" 2>"$work/err"
expect_eq "$?" "0" "add dave from stdin"
expect_eq "$(cat "$work/etc/secrets/dave" 2>/dev/null)" "stdin-secret-9876" "stdin secret stored"
expect_code 0 "add erin with a credential" c accounts add erin --owner 5 --address erin@example.net \
  --imap-host imap.example.net --credential erin-imap
expect_grep '^credential = "erin-imap"$' "$cfg" "credential referenced"
if [ -e "$work/etc/secrets/erin" ]; then bad "a secret file for a credential account"; else ok; fi

# on a terminal without a source: prompted for, not echoed
python3 "$root/tests/integration/pty_run.py" "Password" "tty-secret-321" "$(realpath "$ctl")" \
  --config "$cfg" accounts add tess --owner 6 --address tess@example.net \
  --imap-host imap.example.net >"$work/tty.out" 2>&1
expect_eq "$?" "0" "add tess on a terminal"
expect_grep 'Password \(not shown\):' "$work/tty.out" "prompted"
expect_no_grep 'tty-secret-321' "$work/tty.out" "typed secret not echoed"
expect_eq "$(cat "$work/etc/secrets/tess" 2>/dev/null)" "tty-secret-321" "typed secret stored"
expect_code 0 "remove tess" c accounts remove tess

# refusals: nothing written
cp "$cfg" "$work/before.toml"
expect_code 1 "duplicate name" c accounts add carol --owner 3 --address c2@example.net \
  --imap-host imap.example.net --password-file "$work/pw"
expect_grep 'already has an account named carol' "$work/err" "duplicate reported"
expect_code 1 "invalid host" c accounts add frank --owner 6 --address f@example.net \
  --imap-host 'not a host!' --password-file "$work/pw"
expect_grep 'is not a valid host name' "$work/err" "bad host reported with its reason"
expect_grep "$cfg:[0-9]+:[0-9]+: error" "$work/err" "bad host reported as FILE:LINE:COL"
expect_code 2 "invalid account name" c accounts add '../evil' --owner 6 --address f@example.net \
  --imap-host imap.example.net --password-file "$work/pw"
expect_code 2 "missing --owner" c accounts add frank --address f@example.net --imap-host h.example
expect_code 2 "no secret source without a terminal" c accounts add frank --owner 6 \
  --address f@example.net --imap-host imap.example.net
expect_code 2 "two secret sources" c accounts add frank --owner 6 --address f@example.net \
  --imap-host imap.example.net --password-file "$work/pw" --credential x
expect_code 2 "bad --tls" c accounts add frank --owner 6 --address f@example.net \
  --imap-host imap.example.net --tls maybe --password-file "$work/pw"
if cmp -s "$cfg" "$work/before.toml"; then ok; else bad "a refused add changed the config"; fi
if [ -e "$work/etc/secrets/frank" ]; then bad "a refused add stored a secret"; else ok; fi

# edit: rewrites only that block
expect_code 0 "edit carol" c accounts edit carol --imap-host imap2.example.net --imap-port 1143 --disabled
expect_code 0 "config check after edit" c config check
expect_code 0 "list after edit" c accounts list
expect_grep '^carol <carol@example.net> owner 3 \(disabled\)$' "$work/out" "carol disabled"
expect_grep 'imap: imap2.example.net:1143 tls=starttls' "$work/out" "carol's new server"
expect_grep '^alice <alice@example.com> owner 1$' "$work/out" "alice untouched"
expect_grep '^# Required. Unique; 1-64 characters' "$cfg" "comments kept by edit"
expect_code 1 "edit to an invalid host" c accounts edit carol --imap-host 'bad host'
expect_code 0 "list after refused edit" c accounts list
expect_grep 'imap: imap2.example.net:1143' "$work/out" "refused edit changed nothing"
expect_code 1 "edit unknown" c accounts edit nobody --owner 1
expect_code 1 "edit with an unset variable" c accounts edit carol --password-env NEW_PW_FOR_TEST
expect_grep 'no secret from \$NEW_PW_FOR_TEST' "$work/err" "unset variable reported"
expect_eq "$(cat "$work/etc/secrets/carol" 2>/dev/null)" "$secret" "old secret kept"
NEW_PW_FOR_TEST=rotated-secret-555 c accounts edit carol --password-env NEW_PW_FOR_TEST >"$work/out" 2>&1
expect_eq "$(cat "$work/etc/secrets/carol" 2>/dev/null)" "rotated-secret-555" "rotated secret stored"
expect_eq "$(stat -c %a "$work/etc/secrets/carol" 2>/dev/null)" "600" "rotated secret mode"

# remove: its block and its secret file go, the rest stays
expect_code 0 "remove carol" c accounts remove carol
expect_code 0 "config check after remove" c config check
expect_grep '4 account\(s\)' "$work/out" "four accounts left"
expect_code 0 "list after remove" c accounts list
expect_no_grep '^carol ' "$work/out" "carol gone"
expect_grep '^bob ' "$work/out" "bob kept"
if [ -e "$work/etc/secrets/carol" ]; then bad "carol's secret file kept"; else ok; fi
expect_code 1 "remove unknown" c accounts remove carol
expect_code 0 "remove bob (oauth)" c accounts remove bob
expect_code 0 "remove alice" c accounts remove alice
expect_code 0 "config check after removing all but two" c config check
expect_grep '2 account\(s\)' "$work/out" "two accounts left"
expect_grep '^\[matching\]' "$cfg" "other tables kept"
expect_grep '^# One \[\[accounts\]\] block per mailbox' "$cfg" "top comments kept"

# the secret was never printed by any command
expect_no_grep "$secret|stdin-secret-9876|rotated-secret-555" "$work/all-output" "secret printed"

# test: dave's port 1 is closed -> TCP failure, exit 1
expect_code 1 "test unreachable" c accounts test dave --timeout 5
expect_grep 'FAILED at TCP connect: .*127.0.0.1.*1' "$work/out" "TCP failure named"
expect_grep '\[net.tcp\]' "$work/out" "error class shown"
expect_code 0 "add gina" c accounts add gina --owner 7 --address g@example.net \
  --imap-host no-such-host.invalid --password-file "$work/pw"
expect_code 1 "test DNS failure" c accounts test gina --timeout 5
expect_grep 'FAILED at DNS' "$work/out" "DNS failure named"
expect_code 1 "test credential outside systemd" c accounts test erin
expect_grep 'FAILED at configuration: .*CREDENTIALS_DIRECTORY' "$work/out" "missing credential named"
# ... and a server that logs anyone in
python3 "$root/tests/integration/fake_imap.py" ok "$work/port" >"$work/fake.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 50; i++)); do [ -s "$work/port" ] && break; sleep 0.1; done
expect_code 0 "add helen (plaintext loopback)" c accounts add helen --owner 8 --address h@example.net \
  --imap-host 127.0.0.1 --imap-port "$(cat "$work/port")" --tls none --allow-insecure --password-file "$work/pw"
expect_code 0 "test helen" c accounts test helen --timeout 5
expect_grep '^imap 127.0.0.1:[0-9]+ \(tls=none\) as h@example.net: ok' "$work/out" "login ok"
expect_no_grep "$secret" "$work/out" "test does not print the secret"
expect_code 1 "test unknown account" c accounts test nobody

# the database comes from the config (no --db): migrate, then resync and status
expect_code 0 "db migrate via the config's database.path" c db migrate
if [ -f "$db" ]; then ok; else bad "config's database.path not used"; fi
now=$(date +%s)
sqlite3 "$db" "INSERT INTO accounts (id, name, address, state, created_at, updated_at,
  initial_done, initial_total, initial_started_at, initial_started_done)
  VALUES (1, 'dave', 'dave@example.net', 'syncing', $now, $now, 100, 1000, $((now - 100)), 0);
  INSERT INTO mailboxes (account_id, name, uid_validity, uid_next, highest_modseq)
  VALUES (1, 'INBOX', 7, 500, 900), (1, 'Sent', 8, 40, 77);"
expect_code 0 "status" c accounts status dave
expect_grep 'initial sync: 100 of 1000 \(10%\), 1\.0 msg/s, ETA 15m00s' "$work/out" "rate and ETA"
expect_code 0 "status --json" c accounts status --json
expect_grep '"initial_sync_rate":1' "$work/out" "rate in JSON"
expect_grep '"initial_sync_eta_seconds":9' "$work/out" "ETA in JSON"
expect_code 0 "status lists configured accounts not registered yet" c accounts status
expect_grep '^helen: in .*not registered by crm-maild yet' "$work/out" "config's view in status"
expect_code 0 "resync dave" c accounts resync dave
expect_grep 'cleared the checkpoints of 2 mailbox' "$work/out" "resync count"
expect_eq "$(sqlite3 "$db" "SELECT count(*) FROM mailboxes WHERE uid_next IS NULL AND highest_modseq IS NULL")" "2" "checkpoints cleared"
expect_eq "$(sqlite3 "$db" "SELECT group_concat(uid_validity) FROM mailboxes")" "7,8" "UIDVALIDITY kept"
expect_eq "$(sqlite3 "$db" "SELECT initial_done || '/' || initial_total || '/' || coalesce(initial_started_at, 'null') FROM accounts")" "0/0/null" "progress reset"
expect_code 1 "resync unknown" c accounts resync nobody
expect_grep 'no account named nobody' "$work/err" "resync unknown reported"
# --db still wins over the config
expect_code 1 "resync with --db elsewhere" "$ctl" --config "$cfg" --db "$work/other.db" accounts resync dave

echo "accounts_test: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
