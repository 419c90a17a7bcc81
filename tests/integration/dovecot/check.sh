#!/usr/bin/env bash
# Self-test of the test Dovecot scripts: start.sh in a fresh temp dir, seed.sh, then checks over
# IMAPS, STARTTLS, plaintext loopback, OAuth2, LMTP and doveadm with the curl CLI and python3,
# stop.sh. Prints "N passed, M failed"; exits 1 if anything failed, 77 if it cannot run (not
# root, or a tool missing).
#   check.sh [REPO_ROOT]     (default: two levels above this script's directory)
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=${1:-$(cd "$here/../../.." && pwd)}
corpus=$root/tests/data/corpora/notmuch-default
sample=$root/sample/mail/alice

# Exit 77 (CTest SKIP_RETURN_CODE) where the test cannot run at all.
for tool in dovecot doveadm openssl curl python3 ss; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh)"; exit 77; }
done
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root to run dovecot with its own config"; exit 77; }

work=$(mktemp -d /tmp/dcchk.XXXXXX)
chmod 0755 "$work"   # the mail uid must traverse it
dir=$work/dc
cleanup() { "$here/stop.sh" "$dir" >/dev/null 2>&1; rm -rf "$work"; }
trap cleanup EXIT

pass=0
failn=0
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_grep() { # pattern file description
  if grep -qE -- "$1" "$2"; then ok "$3"; else bad "$3: /$1/ not in output: $(head -c 800 "$2")"; fi
}
finish() {
  if [ "$failn" -gt 0 ] && [ -f "$dir/dovecot.log" ]; then
    echo "--- tail of $dir/dovecot.log"; tail -n 30 "$dir/dovecot.log"
  fi
  echo "$pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit $?
}

# --- start -------------------------------------------------------------------------------------
if envfile=$("$here/start.sh" "$dir" 2>"$work/start.err"); then
  ok "start.sh ($(grep -o 'up in .*' "$work/start.err"))"
else
  bad "start.sh failed: $(cat "$work/start.err")"; finish
fi
# shellcheck disable=SC1090
. "$envfile"
for v in DOVECOT_DIR IMAPS_PORT IMAP_PORT LMTP_PORT LMTP_SOCKET CA_FILE DOVEADM; do
  [ -n "${!v:-}" ] || bad "env lacks $v"
done
[ -S "$LMTP_SOCKET" ] && ok "LMTP unix socket exists" || bad "no LMTP socket at $LMTP_SOCKET"

# Listeners must be on 127.0.0.1 only.
if ss -ltnH | awk '{print $4}' | grep -E ":($IMAPS_PORT|$IMAP_PORT|$LMTP_PORT)\$" | grep -qv '^127\.0\.0\.1:'; then
  bad "a listener is not bound to 127.0.0.1: $(ss -ltnH | grep -E ":($IMAPS_PORT|$IMAP_PORT|$LMTP_PORT) ")"
else
  ok "listeners bound to 127.0.0.1 only"
fi

# --- seed ----------------------------------------------------------------------------------------
mapfile -t three < <(find "$corpus/cur" "$corpus/new" -maxdepth 1 -type f 2>/dev/null | sort | head -n 3)
mkdir -p "$work/three/cur" "$work/three/new" "$work/three/tmp"
cp "${three[@]}" "$work/three/cur/"
if "$here/seed.sh" "$dir" alice "$work/three" >"$work/seed.out" 2>&1; then
  expect_grep "delivered 3 message" "$work/seed.out" "seed.sh 3 corpus messages into alice"
else
  bad "seed.sh: $(cat "$work/seed.out")"
fi

imaps() { # user:pass url [curl args...]
  local up=$1 url=$2; shift 2
  curl -sS --max-time 15 --cacert "$CA_FILE" --user "$up" "imaps://localhost:$IMAPS_PORT/$url" "$@"
}

# INTERNALDATE comes from the message (topmost Received:, else Date:), not the delivery time.
want_year=$(python3 - "${three[0]}" <<'PY'
import email.parser, email.utils, sys, time
h = email.parser.BytesHeaderParser().parsebytes(open(sys.argv[1], "rb").read())
rec = h.get_all("Received") or []
c = str(rec[0]).rsplit(";", 1)[-1] if rec else str(h.get("Date"))
print(time.localtime(email.utils.mktime_tz(email.utils.parsedate_tz(" ".join(c.split())))).tm_year)
PY
)
curl -sS --max-time 15 --cacert "$CA_FILE" --user alice:alice-pw "imaps://localhost:$IMAPS_PORT/INBOX" \
  -X 'UID FETCH 1 INTERNALDATE' >"$work/idate" 2>&1
expect_grep "INTERNALDATE \"[0-9 ]{2}-[A-Za-z]{3}-$want_year " "$work/idate" "seeded INTERNALDATE from headers ($want_year)"

# --- IMAPS ---------------------------------------------------------------------------------------
imaps alice:alice-pw INBOX -X 'EXAMINE INBOX' >"$work/examine" 2>&1
expect_grep '^\* 3 EXISTS' "$work/examine" "IMAPS LOGIN + EXAMINE INBOX shows 3 messages"
imaps alice:alice-pw INBOX -X 'UID SEARCH ALL' >"$work/search" 2>&1
expect_grep '^\* SEARCH 1 2 3' "$work/search" "UID SEARCH ALL returns 1 2 3"
curl -sS --max-time 15 --cacert "$CA_FILE" --user alice:alice-pw "imaps://127.0.0.1:$IMAPS_PORT/" \
  -X CAPABILITY 2>&1 | tr -d "\r" >"$work/cap"
for c in CONDSTORE QRESYNC IDLE SPECIAL-USE; do
  expect_grep "^\* CAPABILITY .*[ ]$c( |$)" "$work/cap" "capability $c (cert valid for 127.0.0.1)"
done
imaps alice:alice-pw "" >"$work/list" 2>&1
for m in Sent Drafts Trash Junk Archive; do
  expect_grep "^\* LIST \(.*\\\\$m\) \"/\" $m" "$work/list" "special-use mailbox $m"
done
imaps alice:alice-pw "" -X 'LSUB "" "*"' >"$work/lsub" 2>&1
expect_grep '^\* LSUB .* Archive' "$work/lsub" "special-use mailboxes subscribed"

# --- wrong password -------------------------------------------------------------------------------
imaps alice:wrong-pw INBOX -X 'EXAMINE INBOX' >"$work/wrong" 2>&1
rc=$?
[ $rc -ne 0 ] && ! grep -q EXISTS "$work/wrong" && ok "wrong password rejected (curl rc=$rc)" \
  || bad "wrong password accepted: $(cat "$work/wrong")"

t0=$(date +%s%N)
imaps alice:alice-pw INBOX -X 'EXAMINE INBOX' >"$work/after" 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
grep -q '^\* 3 EXISTS' "$work/after" && [ "$ms" -lt 1500 ] && ok "login right after a failure is not delayed (${ms}ms)" \
  || bad "login after failure: ${ms}ms: $(head -c 300 "$work/after")"

# --- STARTTLS and plaintext on IMAP_PORT ---------------------------------------------------------------
curl -sS -v --max-time 15 --ssl-reqd --cacert "$CA_FILE" --user bob:bob-pw \
  "imap://localhost:$IMAP_PORT/INBOX" -X 'EXAMINE INBOX' >"$work/starttls" 2>"$work/starttls.err"
expect_grep '^\* 0 EXISTS' "$work/starttls" "STARTTLS (--ssl-reqd) login on plain port"
expect_grep 'STARTTLS' "$work/starttls.err" "curl issued STARTTLS"
expect_grep 'SSL connection using TLS' "$work/starttls.err" "TLS negotiated after STARTTLS"
curl -sS --max-time 15 --user bob:bob-pw "imap://127.0.0.1:$IMAP_PORT/INBOX" -X 'EXAMINE INBOX' \
  >"$work/plain" 2>&1
expect_grep '^\* 0 EXISTS' "$work/plain" "plaintext LOGIN without TLS on loopback port"

# --- OAuth2 (XOAUTH2 / OAUTHBEARER against the local introspection endpoint) --------------------------
if [ -n "${OAUTH2_PORT:-}" ]; then
  curl -sS --max-time 15 --cacert "$CA_FILE" --user alice --oauth2-bearer alice-token \
    "imaps://localhost:$IMAPS_PORT/INBOX" -X 'EXAMINE INBOX' >"$work/oauth" 2>&1
  expect_grep '^\* 3 EXISTS' "$work/oauth" "OAuth2 bearer token login"
  curl -sS --max-time 15 --cacert "$CA_FILE" --user alice --oauth2-bearer bob-token \
    "imaps://localhost:$IMAPS_PORT/INBOX" -X 'EXAMINE INBOX' >"$work/oauthbad" 2>&1
  rc=$?
  [ $rc -ne 0 ] && ok "OAuth2 token of another user rejected (rc=$rc)" \
    || bad "OAuth2 foreign token accepted: $(cat "$work/oauthbad")"
else
  bad "OAUTH2_PORT missing from env"
fi

# --- flags from Maildir names ------------------------------------------------------------------------
if "$here/seed.sh" "$dir" carol "$sample" >"$work/seed2.out" 2>&1; then
  n=$(find "$sample/cur" "$sample/new" -type f | wc -l)
  seen=$(find "$sample/cur" -type f -name '*:2,*S*' | wc -l)
  expect_grep "delivered $n message" "$work/seed2.out" "seed.sh sample mailbox into carol"
  imaps carol:carol-pw INBOX -X 'UID SEARCH SEEN' >"$work/seen" 2>&1
  got=$(grep '^\* SEARCH' "$work/seen" | tr -d '\r' | awk '{print NF - 2}')
  [ "$got" = "$seen" ] && ok "\\Seen preserved ($seen messages)" || bad "\\Seen: got '$got', want $seen"
else
  bad "seed.sh sample: $(cat "$work/seed2.out")"
fi
if "$here/seed.sh" "$dir" carol --folder Projects/Fleet "${three[0]}" >"$work/seed3.out" 2>&1; then
  imaps carol:carol-pw "Projects/Fleet" -X 'EXAMINE Projects/Fleet' >"$work/sub" 2>&1
  expect_grep '^\* 1 EXISTS' "$work/sub" "seed.sh --folder creates nested folder"
else
  bad "seed.sh --folder: $(cat "$work/seed3.out")"
fi

# --- LMTP (unix socket and TCP) ------------------------------------------------------------------------
if python3 - "$LMTP_SOCKET" "$LMTP_PORT" "${three[1]}" >"$work/lmtp" 2>&1 <<'PY'
import smtplib, sys
sock, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
for target in (sock, "127.0.0.1"):
    l = smtplib.LMTP(target, port) if target != sock else smtplib.LMTP(sock)
    refused = l.sendmail("sender@example.org", ["bob@localhost"], data)
    assert not refused, refused
    l.quit()
PY
then
  imaps bob:bob-pw INBOX -X 'EXAMINE INBOX' >"$work/bobx" 2>&1
  expect_grep '^\* 2 EXISTS' "$work/bobx" "LMTP delivery via socket and TCP"
else
  bad "LMTP delivery: $(cat "$work/lmtp")"
fi

# --- UIDVALIDITY change via doveadm ------------------------------------------------------------------
old=$(grep -o 'UIDVALIDITY [0-9]*' "$work/examine" | awk '{print $2}')
new=$(( old == 4242 ? 4343 : 4242 ))
if $DOVEADM mailbox update -u alice --uid-validity "$new" INBOX 2>"$work/upd.err"; then
  imaps alice:alice-pw INBOX -X 'EXAMINE INBOX' >"$work/examine2" 2>&1
  expect_grep "UIDVALIDITY $new\]" "$work/examine2" "doveadm mailbox update --uid-validity ($old -> $new)"
else
  bad "doveadm mailbox update: $(cat "$work/upd.err")"
fi

# --- restart is idempotent, then stop -------------------------------------------------------------------
if "$here/start.sh" "$dir" >/dev/null 2>"$work/start2.err"; then
  . "$dir/env"
  imaps alice:alice-pw INBOX -X 'EXAMINE INBOX' >"$work/examine3" 2>&1
  expect_grep '^\* 3 EXISTS' "$work/examine3" "start.sh on a running DIR restarts it, mail kept"
else
  bad "second start.sh: $(cat "$work/start2.err")"
fi
master=$(cat "$DOVECOT_BASE_DIR/master.pid" 2>/dev/null)
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
if "$here/stop.sh" "$dir" >/dev/null 2>&1 && ! alive "$master"; then
  if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $IMAPS_PORT), timeout=1)" 2>/dev/null; then
    bad "IMAPS port still open after stop.sh"
  else
    ok "stop.sh stopped dovecot $master"
  fi
else
  bad "stop.sh did not stop dovecot $master"
fi
errs=$(grep -E ': (Error|Fatal|Panic):' "$dir/dovecot.log" 2>/dev/null | grep -v 'wrong-pw')
[ -z "$errs" ] && ok "no errors in dovecot.log" || bad "errors in dovecot.log: $(echo "$errs" | head -n 5)"
finish
