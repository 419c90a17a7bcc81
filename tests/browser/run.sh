#!/usr/bin/env bash
# Browser tests of the thread view in Debian's Chromium, driven by playwright-core (npm), against
# the real stack: a throwaway Dovecot (IMAP) and Postfix (SMTP -> LMTP -> Dovecot), crm-maild
# syncing alice's mailbox into SQLite and serving the page.
#
#   run.sh CRM_MAILD CRM_MAILCTL REPO_ROOT [ARTIFACT_DIR]
#
# Seeds: CRM users Alice (salesperson, id 1), Bob (salesperson, id 2), Ada (admin, id 3) with
# passwords "<name lower-case>-password-1"; deals 500 "Customer renewal" (Chloé, customer.example),
# 501 and 502 (Greg at globex.example, two open deals: his mail goes to the unsorted queue with
# both as suggestions); alice's INBOX: a customer thread, Greg's mail, and one thread holding every
# payload of tests/data/xss/*.html as an HTML mail.
# Then runs tests/browser/thread_view.mjs, xss.mjs, compose.mjs and languages.mjs with these variables:
#   BASE_URL ARTIFACTS  ALICE_EMAIL ALICE_PASSWORD  ADA_EMAIL ADA_PASSWORD
#   CUSTOMER_THREAD_SUBJECT  UNSORTED_SUBJECT  XSS_THREAD_SUBJECT  XSS_COUNT
#   NEW_ACCOUNT_JSON (what the admin test types into the add-account form)
# and checks afterwards, outside the browser, that the reply really arrived in the customer's
# mailbox and that the admin-added account synced. Screenshots land in ARTIFACT_DIR (default
# build's tests/browser-artifacts). Prints "N passed, M failed"; exit 1 on failure, 77 to skip.
set -u
maild=$1
ctl=$2
root=$3
art=${4:-$PWD/browser-artifacts}
dcs=$root/tests/integration/dovecot
pfs=$root/tests/integration/postfix
here=$root/tests/browser

for tool in dovecot doveadm postfix sqlite3 python3 node npm; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium not installed"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (test Dovecot)"; exit 77; }

work=$(mktemp -d /tmp/crm-browser.XXXXXX)
chmod 0755 "$work"
dc=$work/dc
pf=$work/pf
pid=""
pass=0
failn=0
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  "$pfs/stop.sh" "$pf" >/dev/null 2>&1
  "$dcs/stop.sh" "$dc" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ok() { pass=$((pass + 1)); echo "ok: $1"; }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
finish() {
  if [ "$failn" -gt 0 ]; then
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "--- tail of $f"; tail -n 40 "$f"; }; done
  fi
  echo "$pass passed, $failn failed"
  [ "$failn" -eq 0 ]
  exit $?
}
now_ms() { date +%s%3N; }
wait_until() { local end=$(($(now_ms) + $1 * 1000)); shift
  while :; do "$@" && return 0; [ "$(now_ms)" -ge "$end" ] && return 1; sleep 0.3; done; }

# playwright-core from the npm registry, at the version of package-lock.json.
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >"$work/npm.log" 2>&1) || { bad "npm ci: $(tail -5 "$work/npm.log")"; finish; }
fi

envfile=$("$dcs/start.sh" "$dc" 2>"$work/dc.err") || { bad "dovecot: $(cat "$work/dc.err")"; finish; }
# shellcheck disable=SC1090
. "$envfile"
pfenv=$("$pfs/start.sh" "$pf" "$dc" 2>"$work/pf.err") || { bad "postfix: $(cat "$work/pf.err")"; finish; }
# shellcheck disable=SC1090
. "$pfenv"

db=$work/crm.db
q() { sqlite3 "$db" "$1"; }
q_is() { [ "$(q "$1")" = "$2" ]; }
q_ge() { [ "$(q "$1")" -ge "$2" ] 2>/dev/null; }
mkdir -p "$work/etc"
printf 'alice-pw' >"$work/alice.pw"
http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/etc/crm.toml" <<TOML
[database]
path = "$db"
[daemon]
log_level = "debug"
[http]
bind = "127.0.0.1"
port = $http_port
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@example.com"
poll_interval = 10
folders = ["INBOX", "Sent"]
[accounts.imap]
host = "127.0.0.1"
port = $IMAPS_PORT
ca_file = "$CA_FILE"
username = "alice"
password_file = "$work/alice.pw"
[accounts.smtp]
host = "127.0.0.1"
port = $SMTPS_PORT
tls = "implicit"
ca_file = "$CA_FILE"
username = "alice"
password_file = "$work/alice.pw"
TOML
"$ctl" --db "$db" db migrate >/dev/null
printf 'id,name,email,role\n1,Alice Müller,alice@example.com,salesperson\n2,Bob Stone,bob@example.com,salesperson\n3,Ada Admin,ada@example.com,admin\n' >"$work/u.csv"
printf 'id,name,domains\n10,Customer Inc,customer.example\n11,Globex,globex.example\n' >"$work/c.csv"
printf 'id,name,emails,company_id\n100,Chloé Customer,customer@customer.example,10\n101,Greg Globex,greg@globex.example,11\n' >"$work/p.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n500,Customer renewal,10,100,1,proposal,open,12000,EUR\n501,Globex expansion,11,101,1,qualification,open,40000,EUR\n502,Globex support plan,11,101,1,negotiation,open,8000,EUR\n503,Bob private deal,11,,2,proposal,open,1,EUR\n' >"$work/d.csv"
for k in users:u companies:c contacts:p deals:d; do
  "$ctl" --db "$db" crm import "${k%%:*}" "$work/${k#*:}.csv" >/dev/null || bad "crm import ${k%%:*}"
done
for u in 1:alice 2:bob 3:ada; do
  printf '%s-password-1\n' "${u#*:}" | "$ctl" --db "$db" users password "${u%%:*}" --password-stdin >/dev/null \
    || bad "users password ${u%%:*}"
done

mkdir -p "$work/seed"
cat >"$work/seed/1.eml" <<'EML'
From: =?UTF-8?Q?Chlo=C3=A9_Customer?= <customer@customer.example>
To: Alice <alice@example.com>
Subject: Renewal pricing for 2027
Date: Mon, 02 Nov 2026 09:00:00 +0000
Message-ID: <renewal-1@customer.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi Alice,

could you send the renewal pricing for 2027? We would like to add ten seats.

On Fri, 30 Oct 2026, Alice wrote:
> Happy to help with the renewal.
> Best, Alice
EML
cat >"$work/seed/2.eml" <<'EML'
From: Greg Globex <greg@globex.example>
To: Alice <alice@example.com>
Subject: Question about invoices
Date: Tue, 03 Nov 2026 10:00:00 +0000
Message-ID: <greg-1@globex.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello, which of our contracts does invoice 4711 belong to?
EML
# A conversation where a reply is about something else: the page splits it off.
cat >"$work/seed/3.eml" <<'EML'
From: Dana Prospect <dana@prospect.example>
To: Alice <alice@example.com>
Subject: Pilot delivery dates
Date: Tue, 03 Nov 2026 11:00:00 +0000
Message-ID: <pilot-1@prospect.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Could the pilot hardware arrive in the week of 16 November?
EML
cat >"$work/seed/4.eml" <<'EML'
From: Dana Prospect <dana@prospect.example>
To: Alice <alice@example.com>
Reply-To: Accounts <ap@prospect-finance.example>
Subject: Re: Pilot delivery dates
Date: Tue, 03 Nov 2026 12:00:00 +0000
Message-ID: <pilot-2@prospect.example>
In-Reply-To: <pilot-1@prospect.example>
References: <pilot-1@prospect.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Unrelated: our accounts payable team has moved, please send invoices to the new address.
EML
# HTML with an inline image (multipart/related, cid:): the page shows the real picture.
cat >"$work/seed/5.eml" <<'EML'
From: Dana Prospect <dana@prospect.example>
To: Alice <alice@example.com>
Subject: Site photo
Date: Wed, 04 Nov 2026 10:00:00 +0000
Message-ID: <photo-1@prospect.example>
MIME-Version: 1.0
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<p>The loading dock:</p><p><img src="cid:dock@prospect.example" alt="dock photo" width="8" height="8"></p>
--rel
Content-Type: image/png; name="dock.png"
Content-Transfer-Encoding: base64
Content-ID: <dock@prospect.example>
Content-Disposition: inline; filename="dock.png"

iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQSACj/P8Fu7N9hAAAAAElFTkSuQmCC
--rel--
EML
python3 - "$root/tests/data/xss" "$work/seed" <<'PY'
import glob, os, sys
from email.message import EmailMessage
from email.utils import format_datetime
import datetime
def conversation(prefix, subject, count, when, fill):
    """count mails from the customer to Alice, each answering the one before (References)."""
    prev = None
    for i in range(count):
        m = EmailMessage()
        m["From"] = "Chloé Customer <customer@customer.example>"
        m["To"] = "Alice <alice@example.com>"
        m["Subject"] = subject if i == 0 else "Re: " + subject
        m["Date"] = format_datetime(when(i))
        mid = f"<{prefix}-{i}@customer.example>"
        m["Message-ID"] = mid
        if prev:
            m["In-Reply-To"] = prev
            m["References"] = prev
        prev = mid
        fill(m, i)
        open(os.path.join(sys.argv[2], f"{prefix[0]}{i:03d}.eml"), "wb").write(bytes(m))

utc = datetime.timezone.utc
files = sorted(glob.glob(os.path.join(sys.argv[1], "*.html")))
def xss(m, i):
    m.set_content(f"Sample {os.path.basename(files[i])}")
    m.add_alternative(open(files[i], encoding="utf-8", errors="replace").read(), subtype="html")
conversation("xss", "Security review: HTML samples", len(files),
             lambda i: datetime.datetime(2026, 11, 4, 8, 0, i % 60, tzinfo=utc), xss)
print(len(files))
# A long conversation (55 short mails): the thread view shows the newest 50 and a button for
# the rest.
conversation("long", "Weekly status", 55, lambda i: datetime.datetime(2026, 10, 1, 9, i, 0, tzinfo=utc),
             lambda m, i: m.set_content(f"Status update number {i + 1}."))
PY
xss_count=$(ls "$work/seed"/x*.eml 2>/dev/null | wc -l)
[ "$xss_count" -ge 20 ] && ok "$xss_count XSS corpus mails built" || bad "XSS corpus: only $xss_count files in tests/data/xss"
# One message in Alice's and Bob's mailboxes: each one's read state is their own (issue 19).
cat >"$work/seed/9-joint.eml" <<'EML'
From: Dora Partner <dora@partner.example>
To: Alice <alice@example.com>, Bob <bob@example.com>
Subject: Joint visit plan
Date: Thu, 05 Nov 2026 08:00:00 +0000
Message-ID: <joint-1@partner.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Shall we meet both of you on Friday?
EML
# From a company the CRM does not know yet: unsorted until the test adds it and a deal to the CRM
# (with SQL, as the CRM application would); crm-maild re-sorts it within seconds (issue 19).
cat >"$work/seed/6-pallets.eml" <<'EML'
From: Nina Initrode <nina@initrode.example>
To: Alice <alice@example.com>
Subject: Pallet order for December
Date: Thu, 05 Nov 2026 09:00:00 +0000
Message-ID: <pallets-1@initrode.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

We would like to order forty pallets for December.
EML
"$dcs/seed.sh" "$dc" alice "$work/seed" >"$work/seed.log" 2>&1 || bad "seed: $(cat "$work/seed.log")"
total=$((7 + xss_count + 55)) # 1-5, 6-pallets, 9-joint, the XSS corpus and the long thread

CRM_TEST_FAST_RETRY=1 "$maild" --config "$work/etc/crm.toml" 2>>"$work/maild.log" & pid=$!
wait_until 60 q_ge "SELECT count(*) FROM messages" "$total" && ok "daemon synced $total mails" \
  || bad "sync: $(q "SELECT count(*) FROM messages") of $total"
base="http://127.0.0.1:$http_port"
wait_until 20 curl -fsS "$base/healthz" -o /dev/null && ok "HTTP up" || bad "HTTP not up"
unsorted_reason=$(q "SELECT u.reason FROM unsorted u JOIN messages m ON m.thread_id=u.thread_id WHERE m.message_id='greg-1@globex.example'")
[ -n "$unsorted_reason" ] && ok "Greg's mail is unsorted ($unsorted_reason)" || bad "Greg's mail not unsorted"

# Two quarantined messages in Alice's INBOX (UIDs the server does not have), for the admin page's
# Quarantine section: one given up on, one still retried.
q "INSERT INTO quarantine (mailbox_id, uid_validity, uid, attempts, reason, first_failed_at, last_failed_at)
   SELECT m.id, 1, 990001, 3, 'mime: test failure (given up)', 1764000000, 1764003600 FROM mailboxes m
   JOIN accounts a ON a.id = m.account_id WHERE a.name = 'alice' AND m.name = 'INBOX'
   UNION ALL SELECT m.id, 1, 990002, 1, 'store: test failure (retrying)', 1764000000, 1764000000 FROM mailboxes m
   JOIN accounts a ON a.id = m.account_id WHERE a.name = 'alice' AND m.name = 'INBOX'"
[ "$(q "SELECT count(*) FROM quarantine")" = 2 ] && ok "two quarantined messages seeded" || bad "quarantine seed"

mkdir -p "$art"
export BASE_URL=$base ARTIFACTS=$art CRM_DB=$db RESORT_SUBJECT="Pallet order for December"
export ALICE_EMAIL=alice@example.com ALICE_PASSWORD=alice-password-1
export ADA_EMAIL=ada@example.com ADA_PASSWORD=ada-password-1
export CUSTOMER_THREAD_SUBJECT="Renewal pricing for 2027" UNSORTED_SUBJECT="Question about invoices"
export SPLIT_SUBJECT="Pilot delivery dates" INLINE_IMAGE_SUBJECT="Site photo"
export LONG_THREAD_SUBJECT="Weekly status" LONG_THREAD_COUNT=55
export XSS_THREAD_SUBJECT="Security review: HTML samples" XSS_COUNT=$xss_count
export NEW_ACCOUNT_JSON="{\"name\":\"bob-mail\",\"owner_id\":2,\"address\":\"bob@example.com\",\"imap_host\":\"127.0.0.1\",\"imap_port\":$IMAPS_PORT,\"tls\":\"implicit\",\"username\":\"bob\",\"password\":\"bob-pw\",\"ca_file\":\"$CA_FILE\"}"
# bob's mailbox gets a few mails so that the account the admin adds in the page has something to sync.
mkdir -p "$work/bobseed"
for i in 1 2 3; do
  cat >"$work/bobseed/b$i.eml" <<EML
From: Greg Globex <greg@globex.example>
To: Bob <bob@example.com>
Subject: Hello Bob $i
Date: Wed, 04 Nov 2026 1$i:00:00 +0000
Message-ID: <bob-$i@globex.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi Bob, welcome ($i).
EML
done
cp "$work/seed/9-joint.eml" "$work/bobseed/b9.eml"
export JOINT_SUBJECT="Joint visit plan" BOB_EMAIL=bob@example.com BOB_PASSWORD=bob-password-1
"$dcs/seed.sh" "$dc" bob "$work/bobseed" >"$work/bobseed.log" 2>&1 || bad "seed bob: $(cat "$work/bobseed.log")"

for t in thread_view xss compose languages; do
  if node "$here/$t.mjs" >"$work/$t.log" 2>&1; then
    ok "browser: $t ($(grep -c '^ok' "$work/$t.log") checks)"
  else
    bad "browser: $t"; sed -n '1,80p' "$work/$t.log"
  fi
done

# Outside the browser: the reply really went through Postfix into the customer's mailbox, and the
# account the admin added in the page is in the config and syncing.
customer_has_reply() { $DOVEADM search -u customer mailbox INBOX header subject "Re: Renewal pricing for 2027" 2>/dev/null | grep -q .; }
wait_until 30 customer_has_reply && ok "the reply from the page arrived in the customer's mailbox" || bad "reply not delivered"
# What compose.mjs sent from the page (issue 20): the new mail with its file and the signature, and
# the reply with the quoted original and its file, as the customer's Dovecot holds them; the new
# mail's Sent copy on its deal.
python3 - "$DOVEADM" <<'PY' && ok "the new mail and the quoting reply from the page arrived whole" || bad "composed mail in the customer's mailbox"
import email, email.policy, subprocess, sys
doveadm = sys.argv[1].split()
def fetch(*query):
    out = subprocess.run(doveadm + ["-f", "flow", "fetch", "-u", "customer", "uid", "mailbox", "INBOX", *query],
                         capture_output=True, text=True).stdout
    uids = [l.split("=", 1)[1] for l in out.splitlines() if l.startswith("uid=")]
    msgs = []
    for uid in uids:
        raw = subprocess.run(doveadm + ["fetch", "-u", "customer", "text", "mailbox", "INBOX", "uid", uid],
                             capture_output=True).stdout
        raw = raw.split(b"\n", 1)[1] if raw.startswith(b"text:") else raw
        msgs.append(email.message_from_bytes(raw, policy=email.policy.default))
    return msgs
new = fetch("header", "subject", "Contract draft (browser)")
assert len(new) == 1, f"{len(new)} new mails"
m = new[0]
assert m["In-Reply-To"] is None, "a new conversation"
text = m.get_body(("plain",)).get_content().replace("\r\n", "\n")
assert "the draft contract is attached." in text and "\n-- \nAlice Müller\nSales, Example Ltd" in text, text
files = {p.get_filename(): p.get_content() for p in m.iter_attachments()}
want = bytes((i * 131 + 7) % 256 for i in range(40000))
assert files.get("Vertrag.pdf") == want, list(files)
replies = [r for r in fetch("body", "Notes from our call are attached.")]
assert len(replies) == 1, f"{len(replies)} quoting replies"
r = replies[0]
text = r.get_body(("plain",)).get_content().replace("\r\n", "\n")
assert "wrote:\n> Hi Alice," in text and "> could you send the renewal pricing for 2027?" in text, text
html = r.get_body(("html",)).get_content()
assert '<blockquote type="cite"' in html and "ten seats" in html, html[:400]
assert {p.get_filename() for p in r.iter_attachments()} == {"notes.txt"}
PY
wait_until 30 q_is "SELECT td.deal_id FROM messages m JOIN thread_deals td ON td.thread_id=m.thread_id WHERE m.subject='Contract draft (browser)'" 500 \
  && ok "the new mail's Sent copy is on deal 500" || bad "new mail's Sent copy: $(q "SELECT thread_id FROM messages WHERE subject='Contract draft (browser)'")"
grep -q 'name = "bob-mail"' "$work/etc/crm.toml" && ok "admin-added account written to the config" || bad "bob-mail not in config"
secret_file=$(find "$work/etc/secrets" -name 'bob-mail' 2>/dev/null | head -1)
if [ -n "$secret_file" ] && [ "$(stat -c %a "$secret_file")" = 600 ]; then ok "its password file is 0600"; else bad "secret file: '$secret_file'"; fi
if grep -q 'bob-pw' "$work/etc/crm.toml" "$work/maild.log"; then bad "the password leaked into the config or log"; else ok "password not in config or log"; fi
wait_until 30 q_is "SELECT state IN ('idle','syncing') FROM accounts WHERE name='bob-mail'" 1 \
  && ok "bob-mail syncing ($(q "SELECT state FROM accounts WHERE name='bob-mail'"))" || bad "bob-mail state: $(q "SELECT state||' '||coalesce(last_error,'') FROM accounts WHERE name='bob-mail'")"
[ "$(sqlite3 "$db" <"$root/tests/integration/deal_stats_check.sql")" = 0 ] && ok "deal counters equal the linked threads" \
  || bad "deal_stats differs from the linked threads"
init=$(q "SELECT initial_done || '/' || initial_total FROM accounts WHERE name='alice'")
[ "${init%/*}" = "${init#*/}" ] && [ "${init%/*}" -ge "$total" ] && ok "alice's initial sync progress counts every folder ($init)" \
  || bad "initial progress $init, want done = total >= $total"
finish
