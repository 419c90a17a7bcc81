#!/usr/bin/env bash
# End-to-end tests of crm-mailctl on the bundled sample CRM and mailbox: exit codes, CSV errors,
# idempotent import, deal sorting reasons, manual links, exports.
set -u
ctl=$1
root=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/crm.db
pass=0
failn=0

ok() { pass=$((pass + 1)); }
bad() { failn=$((failn + 1)); echo "FAIL: $*"; }
expect_code() { # expected_code description command...
  local want=$1 what=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, want $want; stderr: $(cat "$work/err")"; fi
}
expect_grep() { # pattern file description
  if grep -qE -- "$1" "$2"; then ok; else bad "$3: /$1/ not in $2: $(head -c 600 "$2")"; fi
}
expect_eq() { # got want description
  if [ "$1" = "$2" ]; then ok; else bad "$3: got '$1', want '$2'"; fi
}
c() { "$ctl" --db "$db" "$@"; }

# usage errors and help
expect_code 2 "no command" "$ctl"
expect_code 2 "unknown command" "$ctl" --db "$db" frobnicate
expect_code 2 "bad id" "$ctl" --db "$db" thread show abc
expect_grep "positive whole number" "$work/err" "bad id message"
expect_code 2 "unknown option" "$ctl" --db "$db" threads list --bogus
expect_code 2 "crm import kind" "$ctl" --db "$db" crm import widgets x.csv
expect_code 0 "help" "$ctl" --help
for cmd in "db migrate" "db status" "crm import" "import" "threads list" "thread show" \
           "thread link" "thread unlink" "message raw" "export threads" "export deal-links" "deals list" \
           "search" "db reindex" "quarantine list" "quarantine show" "quarantine retry" \
           "quarantine drop"; do
  # shellcheck disable=SC2086
  expect_code 0 "$cmd --help" "$ctl" $cmd --help
  expect_grep "^Usage: crm-mailctl" "$work/out" "$cmd --help text"
done

# database
expect_code 0 "db migrate" c db migrate
expect_grep "applied migration 0001" "$work/out" "first migrate"
expect_code 0 "db migrate again" c db migrate
expect_grep "up to date" "$work/out" "second migrate"
expect_code 0 "db status" c db status
expect_grep "journal mode: +wal" "$work/out" "WAL"
expect_code 1 "unopenable database" "$ctl" --db /nonexistent/dir/x.db db status
expect_grep "/nonexistent/dir/x.db" "$work/err" "db path in error"

# CRM import, with a bad row reported by line number and the good rows kept
for kind in users companies contacts deals; do
  expect_code 0 "crm import $kind" c crm import "$kind" "$root/sample/crm/$kind.csv"
done
printf 'name,id,email,role,extra\n"Dana, Q.",7,dana@acme-sales.example,salesperson,x\nEve,8,not-an-address,admin,\nFay,9,fay@acme-sales.example,boss,\n' >"$work/u.csv"
expect_code 1 "users with bad rows" c crm import users "$work/u.csv"
expect_grep "u.csv:3: email: 'not-an-address'" "$work/err" "bad email line number"
expect_grep "u.csv:4: role: 'boss'" "$work/err" "bad role line number"
expect_grep "imported 1 users" "$work/out" "good row kept"
printf 'id,name\n1,x\n' >"$work/c.csv"
expect_code 1 "contacts missing column" c crm import contacts "$work/c.csv"
expect_grep "missing column\(s\): emails" "$work/err" "missing column named"
printf 'id,name,domains\n50,Freemail Inc,gmail.com\n' >"$work/co.csv"
expect_code 1 "free-mail company domain" c crm import companies "$work/co.csv"
expect_grep "free-mail" "$work/err" "free-mail refused"
expect_code 1 "missing csv" c crm import users "$work/nope.csv"
expect_grep "cannot read" "$work/err" "missing file named"

# mail import: first time stores, second time adds nothing
expect_code 0 "import sample" c import --owner 1 "$root/sample/mail/alice"
expect_grep "read 10 messages" "$work/out" "all sample messages read"
expect_grep "10 new" "$work/out" "all new"
n1=$(c export threads | wc -l)
expect_code 0 "import sample again" c import --owner 1 "$root/sample/mail/alice"
expect_grep "0 new, 10 duplicates" "$work/out" "second import adds nothing"
n2=$(c export threads | wc -l)
expect_eq "$n2" "$n1" "thread count unchanged by re-import"
expect_code 1 "import missing path" c import "$work/does-not-exist"
expect_grep "does-not-exist" "$work/out" "missing path named"

# search (issue 19): what import stored is found at once; --json is the API's shape; errors
expect_code 0 "search" c search "ruckfrage"
expect_grep "AW: Fleet renewal quote – Rückfrage" "$work/out" "search folds diacritics (ruckfrage finds Rückfrage)"
expect_grep "^1 of 1 hit$" "$work/out" "search prints the true count"
expect_code 0 "search --json paged" c search "subject:fleet" --limit 1 --json
expect_grep '"total":4' "$work/out" "search --json: the total of every page"
cursor=$(grep -o '"next_cursor":"[0-9a-f]*"' "$work/out" | cut -d'"' -f4)
[ -n "$cursor" ] && ok || bad "search --json gives a next cursor"
expect_code 0 "search next page" c search "subject:fleet" --limit 1 --cursor "$cursor"
expect_grep "^1 of 4 hits; more: --cursor " "$work/out" "the cursor leads to the next page"
expect_code 1 "cursor of another query" c search "fleet" --cursor "$cursor"
expect_grep "cursor belongs to another search" "$work/err" "cursor of another query refused"
expect_code 2 "malformed query" c search "fleet from:"
expect_grep "at character 12: from: needs a value" "$work/err" "malformed query named with its position"
expect_code 0 "search as a user" c search "fleet" --user 2
expect_grep "^0 of 0 hits$" "$work/out" "user 2 sees none of user 1's imported mail"
expect_code 0 "db reindex" c db reindex
expect_grep "search index rebuilt: 10 messages" "$work/out" "reindex counts the messages"
expect_code 0 "search after reindex" c search "ruckfrage"
expect_grep "^1 of 1 hit$" "$work/out" "the rebuilt index finds the same"

# the quarantine (issue 19): list, show, retry, drop; an id that does not exist is named
sqlite3 "$db" "INSERT INTO accounts (id, name, address, created_at, updated_at) VALUES (70, 'qa', 'qa@x.example', 1, 1);
  INSERT INTO mailboxes (id, account_id, name) VALUES (71, 70, 'INBOX');
  INSERT INTO quarantine (mailbox_id, uid_validity, uid, attempts, reason, first_failed_at, last_failed_at)
  VALUES (71, 5, 12, 3, 'mime: unparsable structure', 1764000000, 1764003600), (71, 5, 13, 1, 'store: busy', 1764000000, 1764000000)"
expect_code 0 "quarantine list" c quarantine list
expect_grep "^71:5:12 +qa +INBOX +12 +3 given up  mime: unparsable structure$" "$work/out" "quarantine list: the given-up entry"
expect_grep "^71:5:13 .* retrying " "$work/out" "quarantine list: the entry still retried"
expect_grep "^2 quarantined messages$" "$work/out" "quarantine list counts"
expect_code 0 "quarantine list --json" c quarantine list --account qa --json
expect_grep '"id":"71:5:12","account":"qa","mailbox":"INBOX"' "$work/out" "quarantine list --json"
expect_code 0 "quarantine show" c quarantine show 71:5:12
expect_grep "^attempts: +3 \(given up" "$work/out" "quarantine show says given up"
expect_code 0 "quarantine retry" c quarantine retry 71:5:12
expect_grep "released" "$work/out" "retry says released"
expect_eq "$(sqlite3 "$db" "SELECT count(*) FROM quarantine WHERE uid = 12")" 0 "retry removes the record"
expect_code 0 "quarantine drop" c quarantine drop 71:5:13
expect_eq "$(sqlite3 "$db" "SELECT dropped_at IS NOT NULL FROM quarantine WHERE uid = 13")" 1 "drop marks it dropped"
expect_code 0 "quarantine list after" c quarantine list
expect_grep "^0 quarantined messages$" "$work/out" "a dropped message leaves the list"
expect_code 1 "quarantine retry of an id that does not exist" c quarantine retry 71:5:999
expect_grep "no quarantined message 71:5:999" "$work/err" "unknown quarantine id named"
expect_code 2 "quarantine show of a malformed id" c quarantine show bogus
expect_grep "bogus is not a quarantine id" "$work/err" "malformed quarantine id named"

# sorting decisions and their reasons
c export deal-links >"$work/links"
expect_grep "^fleet-1@globex.example	1000	" "$work/links" "Globex mail on the fleet deal"
expect_grep "^reply-1@acme-sales.example	1000	" "$work/links" "our reply in the same deal"
expect_grep "^fleet-2@globex-mail.example	1000	" "$work/links" "answer from second address in the deal"
expect_grep "^tps-1@initech.example	1001	" "$work/links" "TPS mail scored onto TPS deal"
expect_grep "^nl-2026-45@vendor-news.example	unsorted	bulk mail" "$work/links" "newsletter is bulk"
expect_grep "^q-77@newprospect.example	unsorted	unknown sender" "$work/links" "unknown sender"
expect_grep "^CAJane123@mail.gmail.com	1003	" "$work/links" "free-mail contact by address"
expect_grep "^yeah-1@initech.example	unsorted	ambiguous: deals 1001, 1002" "$work/links" "ambiguous"
expect_grep "^spoof-1@g1obex.example	unsorted	suspicious sender" "$work/links" "lookalike domain"
expect_grep "^tps-2@initech.example	1001	" "$work/links" "subject-only reply joins the TPS thread"

# the TPS follow-up has no References: the subject fallback put it in the first TPS thread
c export threads >"$work/threads"
expect_grep "^tps-1@initech.example tps-2@initech.example$" "$work/threads" "subject fallback thread"
expect_grep "^fleet-1@globex.example fleet-2@globex-mail.example reply-1@acme-sales.example$" "$work/threads" "reference thread"

# thread listing, JSON, manual link and unlink
expect_code 0 "threads list unsorted" c threads list --unsorted --json
expect_grep '"reason":"ambiguous: deals 1001, 1002"' "$work/out" "unsorted JSON has reason"
expect_grep '"suggested_deals":\[100[12],100[12]\]' "$work/out" "suggestions listed"
tid=$(c threads list --unsorted --json | grep -o '"id":[0-9]*,"subject":"Quick question"' | grep -o '[0-9]*' | head -1)
[ -n "$tid" ] && ok || bad "found the ambiguous thread id"
expect_code 0 "link by hand" c thread link "$tid" 1002
c export deal-links >"$work/links"
expect_grep "^yeah-1@initech.example	1002	manual link" "$work/links" "manual link exported"
expect_code 0 "re-import keeps manual link" c import --owner 1 "$root/sample/mail/alice"
c export deal-links >"$work/links"
expect_grep "^yeah-1@initech.example	1002	manual link" "$work/links" "manual link survives"
expect_code 0 "thread show" c thread show "$tid" --json
expect_grep '"from_address":"bill.lumbergh@initech.example"' "$work/out" "thread show JSON"
expect_code 0 "unlink" c thread unlink "$tid"
c export deal-links >"$work/links"
expect_grep "^yeah-1@initech.example	unsorted	" "$work/links" "unlinked goes back to unsorted"
expect_code 1 "link missing deal" c thread link "$tid" 99999
expect_grep "deal 99999 does not exist" "$work/err" "missing deal named"
expect_code 1 "show missing thread" c thread show 99999
expect_code 1 "list missing deal" c threads list --deal 99999

# raw messages: kept compressed, given back byte for byte (SHA-256 equals the stored hash)
expect_code 0 "message raw --help" "$ctl" message raw --help
n_raw=0; n_same=0
while IFS='|' read -r mid sha; do
  n_raw=$((n_raw + 1))
  got=$(c message raw "$mid" | sha256sum | cut -d' ' -f1)
  [ "$got" = "$sha" ] && n_same=$((n_same + 1))
done < <(sqlite3 "$db" "SELECT id, raw_sha256 FROM messages ORDER BY id")
[ "$n_raw" -gt 0 ] && ok || bad "no messages to read back"
expect_eq "$n_same" "$n_raw" "every raw message read back exactly"
expect_eq "$(sqlite3 "$db" "SELECT count(*) > 0 FROM blobs b JOIN messages m ON m.raw_sha256 = b.sha256 WHERE b.codec = 'zstd'")" "1" "raw messages stored as zstd"
expect_code 1 "raw of missing message" c message raw 99999
expect_grep "message 99999 does not exist" "$work/err" "missing message named"

# attachments and charsets decoded
tps=$(c threads list --deal 1001 --json | grep -o '"id":[0-9]*' | head -1 | grep -o '[0-9]*')
expect_code 0 "show TPS thread" c thread show "$tps" --json
expect_grep '"filename":"Sitzplätze Q3.csv"' "$work/out" "RFC 2231 filename decoded"
fl=$(c threads list --deal 1000 --json | grep -o '"id":[0-9]*' | head -1 | grep -o '[0-9]*')
expect_code 0 "show fleet thread" c thread show "$fl"
expect_grep "Rückfrage: gilt der Preis auch für Leasing" "$work/out" "latin-1 QP body as UTF-8"
expect_grep "Subject: AW: Fleet renewal quote – Rückfrage" "$work/out" "encoded-word subject"

# unread counts per deal: the two new Globex messages... the fleet thread has 1 unread (fleet-2)
expect_code 0 "deals list" c deals list --json
expect_grep '"id":1000,"name":"Globex fleet renewal","stage":"proposal","status":"open","threads":1,"messages":3,"unread":1' "$work/out" "deal unread count"

# every list pages with --limit/--cursor as the API does (issue 19): the count of the whole list,
# the cursor of the next page, and a cursor of another list refused
n_deals=$(c deals list --json | grep -o '"id":' | wc -l)
expect_code 0 "deals list paged" c deals list --limit 1
expect_grep "^1 of $n_deals deals; more: --cursor [0-9a-f]+$" "$work/out" "deals list: a page of one, the true count, the next cursor"
dcur=$(grep -o 'more: --cursor [0-9a-f]*' "$work/out" | cut -d' ' -f3)
paged=$(c deals list --limit 1 --json | grep -o '"id":[0-9]*' | head -1)
walked="$paged"
while [ -n "$dcur" ]; do
  page=$(c deals list --limit 1 --cursor "$dcur" --json)
  walked="$walked $(printf '%s' "$page" | grep -o '"deals":\[{"id":[0-9]*' | grep -o '"id":[0-9]*')"
  dcur=$(printf '%s' "$page" | grep -o '"next_cursor":"[0-9a-f]*"' | cut -d'"' -f4)
done
expect_eq "$(echo $walked | wc -w)" "$n_deals" "deals list: walking the cursors reads every deal once"
expect_eq "$(echo $walked | tr ' ' '\n' | sort -u | wc -l)" "$n_deals" "deals list: no deal twice"
expect_code 0 "threads list --unsorted paged" c threads list --unsorted --limit 1
n_unsorted=$(c threads list --unsorted --json | grep -o '"subject":' | wc -l)
expect_grep "^1 of $n_unsorted threads; more: --cursor [0-9a-f]+$" "$work/out" "unsorted paged with its count"
ucur=$(grep -o 'more: --cursor [0-9a-f]*' "$work/out" | cut -d' ' -f3)
expect_code 1 "a queue cursor for a deal" c threads list --deal 1000 --cursor "$ucur"
expect_grep "cursor belongs to another list \(unsorted\), not to deal-threads" "$work/err" "another list's cursor named"
expect_code 1 "a thread cursor for deals" c deals list --cursor "$ucur"
expect_code 2 "paging all threads" c threads list --limit 5
expect_grep "page a deal's threads \(--deal\) or the unsorted queue" "$work/err" "paging needs a list that pages"
expect_code 2 "limit out of range" c deals list --limit 501
expect_code 0 "outbox list paged, empty" c outbox list --limit 10
expect_grep "^0 of 0 messages$" "$work/out" "an empty outbox's page"
# undeclared 8-bit text is read in --fallback-charset (issue 20): Polish mail in windows-1250
mkdir -p "$work/pl"
printf 'From: Lukasz <lukasz@klient-pl.example>\nTo: alice@acme-sales.example\nSubject: Oferta \277\363\263ta\nMessage-ID: <pl-1@klient-pl.example>\nDate: Mon, 02 Nov 2026 09:00:00 +0000\n\nDzi\352kuj\352, \243ukasz\n' >"$work/pl/pl.eml"
expect_code 2 "unknown fallback charset" c import --fallback-charset klingon-8 "$work/pl"
expect_grep "'klingon-8' is not a charset this system can read" "$work/err" "unknown charset named"
expect_code 0 "import with a fallback charset" c import --fallback-charset windows-1250 "$work/pl"
pl=$(c threads list --json | grep -o '"id":[0-9]*,"subject":"Oferta [^"]*"' | head -1)
expect_grep "Oferta żółta" <(printf '%s\n' "$pl") "the subject read as windows-1250"
plid=$(printf '%s' "$pl" | grep -o '"id":[0-9]*' | grep -o '[0-9]*')
expect_code 0 "show the Polish thread" c thread show "$plid"
expect_grep "Dziękuję, Łukasz" "$work/out" "the body read as windows-1250"
expect_code 2 "unknown outbox state" c outbox list --state lost
expect_grep "'lost' is none of queued, sending, sent, failed, unknown, cancelled" "$work/err" "outbox state named"

# thread split ("not part of this conversation"): the message and the replies referencing it move
# to a new thread held in the unsorted queue; nothing joins the two again automatically
mkdir -p "$work/split/cur" "$work/split/new" "$work/split/tmp"
mail() { # file from subject message-id date [in-reply-to [references]]
  { printf 'From: %s\nTo: alice@acme-sales.example\nSubject: %s\nMessage-ID: <%s>\nDate: %s\n' "$2" "$3" "$4" "$5"
    [ -n "${6:-}" ] && printf 'In-Reply-To: <%s>\nReferences: %s\n' "$6" "${7:-<$6>}"
    printf '\nbody of %s\n' "$4"; } >"$work/split/cur/$1:2,S"
}
mail s1 hank@globex.example "Roof repair schedule" roof-1@globex.example "Mon, 02 Nov 2026 10:00:00 +0000"
mail s2 peter@initech.example "Re: Roof repair schedule" roof-2@initech.example "Mon, 02 Nov 2026 11:00:00 +0000" roof-1@globex.example
mail s3 hank@globex.example "Re: Roof repair schedule" roof-3@globex.example "Mon, 02 Nov 2026 12:00:00 +0000" roof-2@initech.example
mail s4 hank@globex.example "Re: Roof repair schedule" roof-4@globex.example "Mon, 02 Nov 2026 13:00:00 +0000" roof-1@globex.example
expect_code 0 "import split scenario" c import --owner 1 "$work/split"
c export threads >"$work/threads"
expect_grep "^roof-1@globex.example roof-2@initech.example roof-3@globex.example roof-4@globex.example$" "$work/threads" "one thread before the split"
expect_code 0 "thread split --help" "$ctl" thread split --help
expect_code 2 "thread split without message" c thread split
expect_code 1 "split unknown Message-ID" c thread split "<nope@nowhere.example>"
expect_grep "no message has Message-ID <nope@nowhere.example>" "$work/err" "unknown Message-ID named"
expect_code 1 "split a whole thread" c thread split "roof-1@globex.example"
expect_grep "nothing would stay behind" "$work/err" "splitting everything refused"
expect_code 0 "split by Message-ID" c thread split "<roof-2@initech.example>"
expect_grep "and 1 reply moved from thread [0-9]+ to new thread [0-9]+" "$work/out" "split reports what moved"
c export threads >"$work/threads"
expect_grep "^roof-1@globex.example roof-4@globex.example$" "$work/threads" "original thread keeps the rest"
expect_grep "^roof-2@initech.example roof-3@globex.example$" "$work/threads" "split message and its reply together"
c export deal-links >"$work/links"
expect_grep "^roof-2@initech.example	unsorted	split from thread [0-9]+ by crm-mailctl" "$work/links" "split reason"
# a reply referencing both threads goes to the one it answers; a subject-only reply matching
# both threads joins neither
mail s5 hank@globex.example "Re: Roof repair schedule" roof-5@globex.example "Mon, 02 Nov 2026 14:00:00 +0000" roof-3@globex.example "<roof-1@globex.example> <roof-3@globex.example>"
mail s6 hank@globex.example "Re: Roof repair schedule" roof-6@globex.example "Mon, 02 Nov 2026 15:00:00 +0000"
expect_code 0 "import after split" c import --owner 1 "$work/split"
c export threads >"$work/threads"
expect_grep "^roof-2@initech.example roof-3@globex.example roof-5@globex.example$" "$work/threads" "reply follows its parent into the split thread"
expect_grep "^roof-6@globex.example$" "$work/threads" "subject-only reply joins neither split thread"
expect_grep "^roof-1@globex.example roof-4@globex.example$" "$work/threads" "original thread unchanged"

# text from mail never reaches the terminal as control characters (ESC, the UTF-8 C1 CSI)
mkdir -p "$work/esc/cur" "$work/esc/new" "$work/esc/tmp"
printf 'From: =?UTF-8?Q?Evil=1B]0;pwned=07?= <evil@attacker.example>\nTo: alice@acme-sales.example\nSubject: =?UTF-8?Q?Hi=1B[2J=C2=9B31mred?=\nMessage-ID: <esc-1@attacker.example>\nDate: Mon, 02 Nov 2026 16:00:00 +0000\n\nbody\033[5mblink\033[0m\nline two\n' >"$work/esc/cur/e1:2,S"
expect_code 0 "import escape sequences" c import --owner 1 "$work/esc"
etid=$(sqlite3 "$db" "SELECT thread_id FROM messages WHERE message_id = 'esc-1@attacker.example'")
c threads list >"$work/esc.list"
c thread show "$etid" >"$work/esc.show"
for f in esc.list esc.show; do
  if LC_ALL=C grep -q "$(printf '\033')" "$work/$f" || LC_ALL=C grep -q "$(printf '\302\233')" "$work/$f" \
     || LC_ALL=C grep -q "$(printf '\007')" "$work/$f"; then bad "$f carries control characters"; else ok; fi
done
expect_grep "Hi.\[2J.31mred" "$work/esc.list" "the subject is shown, its escapes replaced"
expect_grep "^line two$" "$work/esc.show" "body lines kept"

# resort (issue 19): mail from Umbrella arrives before the CRM knows Umbrella; once the CRM does,
# `resort` files the unsorted thread under Umbrella's one open deal and says so; --deal N checks
# that deal's automatic links; a person's link is never touched.
rdb=$work/resort.db
"$ctl" --db "$rdb" db migrate >/dev/null
for kind in users companies contacts deals; do "$ctl" --db "$rdb" crm import "$kind" "$root/sample/crm/$kind.csv" >/dev/null; done
mkdir -p "$work/rs/cur" "$work/rs/new" "$work/rs/tmp"
printf 'From: Ada <ada@umbrella.example>\r\nTo: alice@acme-sales.example\r\nSubject: Lab equipment\r\nMessage-ID: <rs-1@umbrella.example>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nA quote, please.\r\n' \
  >"$work/rs/cur/1.rs:2,"
"$ctl" --db "$rdb" import --owner 1 "$work/rs" >/dev/null 2>&1
rtid=$(sqlite3 "$rdb" "SELECT thread_id FROM messages WHERE message_id = 'rs-1@umbrella.example'")
"$ctl" --db "$rdb" resort >"$work/out" 2>"$work/err"
expect_grep "^1 thread decided again, 0 changed$" "$work/out" "resort: nothing changes while the CRM is the same"
printf 'id,name,domains\n12,Umbrella,umbrella.example\n' >"$work/rs-co.csv"
printf 'id,name,company_id,contact_ids,owner_id,stage,status,value,currency\n1002,Umbrella lab,12,,1,lead,open,900,EUR\n' >"$work/rs-deals.csv"
"$ctl" --db "$rdb" crm import companies "$work/rs-co.csv" >/dev/null
"$ctl" --db "$rdb" crm import deals "$work/rs-deals.csv" >/dev/null
"$ctl" --db "$rdb" resort --json >"$work/out" 2>"$work/err"
expect_grep '"examined":1,"changes":' "$work/out" "resort --json counts the threads"
expect_grep "\"thread\":$rtid,\"from\":null,\"to\":1002,\"held\":false,\"reason\":\"re-sorted: single open deal\"" "$work/out" "resort --json: the unsorted thread goes to the new deal"
expect_eq "$(sqlite3 "$rdb" "SELECT deal_id FROM thread_deals WHERE thread_id = $rtid")" "1002" "resort linked it"
"$ctl" --db "$rdb" resort --deal 1002 >"$work/out" 2>"$work/err"
expect_grep "^1 thread decided again, 0 changed$" "$work/out" "resort --deal: the link still holds"
"$ctl" --db "$rdb" thread link "$rtid" 1001 >/dev/null 2>&1
"$ctl" --db "$rdb" resort --all >"$work/out" 2>"$work/err"
expect_grep "^0 threads decided again, 0 changed$" "$work/out" "resort --all leaves a manual link alone"
expect_code 1 "resort --deal of no deal" "$ctl" --db "$rdb" resort --deal 4242
expect_grep "deal 4242 does not exist" "$work/err" "resort names the missing deal"
expect_code 2 "resort --deal with --all" "$ctl" --db "$rdb" resort --deal 1002 --all

# a newer database is refused
sqlite3 "$db" "INSERT INTO schema_migrations VALUES (9999,'future','x',0)"
expect_code 1 "newer database refused" c threads list
expect_grep "schema version 9999" "$work/err" "too-new message"

# The import sorts with the config's [matching], as crm-maild does (runtime::ingest_options): a
# plus-tagged sender matches its contact by default, and not with strip_plus_tags = false.
mkdir -p "$work/plus/cur" "$work/plus/new" "$work/plus/tmp"
printf 'From: Peter <peter+crm@initech.example>\r\nTo: alice@initrode-sales.example\r\nSubject: TPS licence count\r\nMessage-ID: <plus-1@initech.example>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nHow many seats?\r\n' \
  >"$work/plus/cur/1.plus:2,"
for strip in true false; do
  pdb=$work/plus-$strip.db
  printf '[database]\npath = "%s"\n[matching]\nstrip_plus_tags = %s\nverify_dkim = false\n' "$pdb" "$strip" >"$work/plus-$strip.toml"
  "$ctl" --db "$pdb" db migrate >/dev/null
  for kind in users companies contacts deals; do "$ctl" --db "$pdb" crm import "$kind" "$root/sample/crm/$kind.csv" >/dev/null; done
  "$ctl" --db "$pdb" --config "$work/plus-$strip.toml" import --owner 1 "$work/plus" >/dev/null 2>&1
  contact=$(sqlite3 "$pdb" "SELECT coalesce(p.contact_id, 'none') FROM participants p JOIN messages m ON m.id = p.message_id WHERE m.message_id = 'plus-1@initech.example' AND p.role = 'from'")
  expect_eq "$contact" "$([ "$strip" = true ] && echo 101 || echo none)" "import with strip_plus_tags = $strip: sender's contact"
done

# crm-mailctl followups (issue 20): Peter's mail of two days ago waits for our answer on deal
# 1001 (Alice's), with the config's answer_hours; an out-of-office answer is no answer; a deal's
# own period is honoured; an unknown user is refused.
mkdir -p "$work/fu/cur" "$work/fu/new" "$work/fu/tmp"
two_days_ago=$(date -u -R -d '-2 days')
printf 'From: Peter <peter@initech.example>\r\nTo: alice@initrode-sales.example\r\nSubject: TPS licence count\r\nMessage-ID: <fu-1@initech.example>\r\nDate: %s\r\n\r\nHow many seats?\r\n' "$two_days_ago" \
  >"$work/fu/cur/1.fu:2,"
fdb=$work/fu.db
"$ctl" --db "$fdb" db migrate >/dev/null
for kind in users companies contacts deals; do "$ctl" --db "$fdb" crm import "$kind" "$root/sample/crm/$kind.csv" >/dev/null; done
printf '[database]\npath = "%s"\n[matching]\nverify_dkim = false\n' "$fdb" >"$work/fu.toml"
"$ctl" --db "$fdb" --config "$work/fu.toml" import --owner 1 "$work/fu" >/dev/null 2>&1
expect_code 0 "followups" "$ctl" --db "$fdb" --config "$work/fu.toml" followups --user 1
expect_grep "^user 1: 1 follow-up" "$work/out" "followups: one for Alice"
expect_grep "needs-answer +thread [0-9]+ .*TPS licence count +\[1001: TPS licences\]" "$work/out" "followups: Peter's mail needs our answer"
"$ctl" --db "$fdb" --config "$work/fu.toml" followups --json >"$work/fu.json"
expect_eq "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join("%d:%d" % (u["user_id"], len(u["followups"])) for u in d))' "$work/fu.json")" \
  "1:1 2:0" "followups --json: each deal owner's list"
printf '[database]\npath = "%s"\n[followups]\nanswer_hours = 72\n' "$fdb" >"$work/fu72.toml"
expect_code 0 "followups with answer_hours = 72" "$ctl" --db "$fdb" --config "$work/fu72.toml" followups --user 1
expect_grep "^user 1: 0 follow-ups" "$work/out" "followups: [followups] answer_hours is honoured"
printf '[database]\npath = "%s"\n[followups]\nanswer_hours = 0\n' "$fdb" >"$work/fubad.toml"
expect_code 0 "followups with a bad config falls back to the defaults" "$ctl" --db "$fdb" --config "$work/fubad.toml" followups --user 1
expect_grep "^user 1: 1 follow-up" "$work/out" "followups: the default with an invalid config"
expect_code 1 "followups for an unknown user" "$ctl" --db "$fdb" followups --user 99
expect_grep "no CRM user 99" "$work/err" "followups: unknown user named"
expect_code 2 "followups takes no arguments" "$ctl" --db "$fdb" followups extra

echo "$pass passed, $failn failed"
[ "$failn" -eq 0 ]
