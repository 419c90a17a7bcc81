#!/usr/bin/env bash
# crm-mailctl's listings on PostgreSQL give what they give on SQLite (issue 17): the same CRM
# records and the same mail (the sample mailbox and a real mailing-list corpus) imported into
# a SQLite file and into a throwaway PostgreSQL 15, then `export threads`, `export deal-links`,
# `deals list --json`, `threads list` (all, --unsorted, --deal), `thread show --json` and
# `message raw` compared byte for byte between the two. The exports are what the evaluation
# scripts score, so this also checks that both stores thread and sort the same mail the same.
#   ctl_parity_test.sh CRM_MAILCTL REPO_ROOT
# Prints "N passed, M failed"; exits 1 on failure, 77 when it cannot run (no PostgreSQL 15).
set -u
ctl=$1
root=$2
here=$root/tests/integration/postgres
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# shellcheck source=../lib.sh
. "$root/tests/integration/lib.sh"
[ -x "$PG_BIN/initdb" ] || { echo "SKIP: no PostgreSQL 15 in $PG_BIN"; exit 77; }
if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "SKIP: no postgres system user"; exit 77
fi

work=$(mktemp -d /tmp/crm-pgparity.XXXXXX)
chmod 0755 "$work"
pgd=$work/pg
cleanup() {
  "$here/pg.sh" stop "$pgd" >/dev/null 2>&1
  if [ "${CRM_TEST_KEEP:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! "$here/pg.sh" start "$pgd" >"$work/pg-start.out" 2>&1; then
  bad "PostgreSQL start: $(tail -5 "$work/pg-start.out")"; finish
fi
pg_port=$(sed -n 's|.*@127.0.0.1:\([0-9]*\)/.*|\1|p' "$pgd/url")
printf '[database]\nurl = "postgresql://crm_test@127.0.0.1:%s/crm_test"\npassword_file = "%s"\n' \
  "$pg_port" "$pgd/password" >"$work/pg.toml"
printf '[database]\npath = "%s"\n' "$work/crm.db" >"$work/sqlite.toml"

# A real list corpus beside the sample mailbox: long References chains, repeated subjects.
corpus=$root/tests/data/corpora/fedora-devel-2010-01
mail=("$root/sample/mail/alice")
[ -e "$corpus/2010-January.txt.gz" ] && mail+=("$corpus/2010-January.txt.gz")

for db in sqlite pg; do
  if [ "$db" = pg ]; then "$ctl" --config "$work/pg.toml" db migrate >"$work/migrate.out" 2>&1 ||
    { bad "db migrate on PostgreSQL: $(tail -3 "$work/migrate.out")"; finish; }; fi
  for kind in users companies contacts deals; do
    "$ctl" --config "$work/$db.toml" crm import "$kind" "$root/sample/crm/$kind.csv" \
      >>"$work/$db-crm.out" 2>&1 || bad "$db: crm import $kind: $(tail -2 "$work/$db-crm.out")"
  done
  "$ctl" --config "$work/$db.toml" import --owner 1 "${mail[@]}" >"$work/$db-import.out" 2>&1 ||
    bad "$db: import: $(tail -3 "$work/$db-import.out")"
done
n=$(grep -o 'read [0-9]* messages' "$work/pg-import.out" | grep -o '[0-9]*')
[ "${n:-0}" -gt 5 ] && ok "PostgreSQL imported $n messages" || bad "PostgreSQL import read ${n:-no} messages"

# The import's summary of the database's totals (messages, threads, linked, unsorted).
a=$(grep '^database:' "$work/sqlite-import.out")
b=$(grep '^database:' "$work/pg-import.out")
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "import totals: the same on both ($b)"; else bad "import totals: '$a' vs '$b'"; fi

same() { # label, then the crm-mailctl arguments
  local label=$1
  shift
  "$ctl" --config "$work/sqlite.toml" "$@" >"$work/a.out" 2>"$work/a.err"
  local ra=$?
  "$ctl" --config "$work/pg.toml" "$@" >"$work/b.out" 2>"$work/b.err"
  local rb=$?
  if [ $ra -ne 0 ] || [ $rb -ne 0 ]; then
    bad "$label: exit $ra on SQLite, $rb on PostgreSQL: $(head -c 300 "$work/b.err")"
  elif [ ! -s "$work/a.out" ]; then
    bad "$label: SQLite printed nothing"
  elif cmp -s "$work/a.out" "$work/b.out"; then
    ok "$label: the same on both ($(wc -l <"$work/a.out") lines)"
  else
    bad "$label differs: $(diff "$work/a.out" "$work/b.out" | head -5 | tr '\n' ' ')"
  fi
}
same "export threads" export threads
same "export deal-links" export deal-links
same "deals list --json" deals list --json
same "deals list" deals list
same "threads list" threads list
same "threads list --unsorted" threads list --unsorted

# Thread and message ids are the database's own: compare one thread and one message by content.
deal=$("$ctl" --config "$work/pg.toml" deals list --json | python3 -c '
import json, sys
ds = [d for d in json.load(sys.stdin) if d["threads"] > 0]
print(ds[0]["id"] if ds else "")')
if [ -n "$deal" ]; then
  same "threads list --deal $deal" threads list --deal "$deal"
else
  bad "no deal has a thread on PostgreSQL"
fi
show() { # db -> the first thread of deal $deal, shown as JSON without its row ids
  local t
  t=$("$ctl" --config "$work/$1.toml" threads list --deal "$deal" --json |
    python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
  "$ctl" --config "$work/$1.toml" thread show "$t" --json | python3 -c '
import json, sys
t = json.load(sys.stdin)
t.pop("id", None)
for m in t.get("messages_list", []):
    m.pop("id", None)
print(json.dumps(t, sort_keys=True))'
}
if [ -n "$deal" ]; then
  show sqlite >"$work/show-a.json"
  show pg >"$work/show-b.json"
  if [ -s "$work/show-a.json" ] && cmp -s "$work/show-a.json" "$work/show-b.json"; then
    ok "thread show --json: the same thread on both"
  else
    bad "thread show differs: $(diff "$work/show-a.json" "$work/show-b.json" | head -c 300)"
  fi
  raw() { # db -> the raw bytes of that thread's first message
    local t m
    t=$("$ctl" --config "$work/$1.toml" threads list --deal "$deal" --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
    m=$("$ctl" --config "$work/$1.toml" thread show "$t" --json |
      python3 -c 'import json, sys; print(json.load(sys.stdin)["messages_list"][0]["id"])')
    "$ctl" --config "$work/$1.toml" message raw "$m"
  }
  raw sqlite >"$work/raw-a.eml"
  raw pg >"$work/raw-b.eml"
  if [ -s "$work/raw-a.eml" ] && cmp -s "$work/raw-a.eml" "$work/raw-b.eml"; then
    ok "message raw: the same $(wc -c <"$work/raw-a.eml") bytes on both"
  else
    bad "message raw differs ($(wc -c <"$work/raw-a.eml") vs $(wc -c <"$work/raw-b.eml") bytes)"
  fi
fi
if "$ctl" --config "$work/pg.toml" message raw 987654321 >/dev/null 2>"$work/missing.err"; then
  bad "message raw of a missing message succeeded on PostgreSQL"
else
  grep -q "does not exist" "$work/missing.err" && ok "message raw: a missing message is named" ||
    bad "message raw missing: $(cat "$work/missing.err")"
fi
finish
