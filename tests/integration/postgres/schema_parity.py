#!/usr/bin/env python3
"""Checks that schema/postgresql/*.sql builds the same logical schema as schema/0*.sql.

    schema_parity.py [--schema DIR] [--keep] POSTGRES_URL

Builds a SQLite database from schema/NNNN_*.sql with the sqlite3 command-line tool, and a
PostgreSQL one from schema/postgresql/NNNN_*.sql with psql on POSTGRES_URL: in a scratch schema
(parity_<pid>) of that database, dropped afterwards unless --keep. Files whose first line is
"-- crm-mail: no-transaction" run outside a transaction and are then run a second time (they must
be re-runnable); the others run with psql -1, as the migration runner runs them. Then compares,
table by table: the set and order of column names, column types (SQLite INTEGER/TEXT/BLOB/REAL
against BIGINT/TEXT/BYTEA/DOUBLE PRECISION), NOT NULL, defaults, primary keys, UNIQUE
constraints, named indexes (columns, uniqueness, partial predicate), foreign keys (columns,
target, ON DELETE/ON UPDATE), CHECK (col IN (...)) constraints and trigger names; and that no
PostgreSQL index is left INVALID.

Every difference is printed; the exit status is 1 when one is not in ALLOWED below (or when an
entry of ALLOWED matched nothing: the list must stay true), 2 when a schema does not build.
Python 3 standard library and the psql/sqlite3 tools only.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

NO_TRANSACTION = "-- crm-mail: no-transaction"

# ---- The allow-list -----------------------------------------------------------------------
# Differences that are intended, each with its reason. Keys are the (kind, table, item) tuples
# printed for a difference.

# 0/1 flags: SMALLINT with CHECK (x IN (0, 1)) on PostgreSQL (schema/postgresql/0001_initial.sql,
# "Type choices"): the C++ code compares them with 0/1, sums them and reads them as integers, so
# not BOOLEAN; SMALLINT rather than BIGINT, and the CHECK makes the 0/1 contract explicit, which
# SQLite's INTEGER leaves implicit.
FLAGS = [
    ("accounts", "enabled"), ("attachments", "is_inline"), ("deals", "shared"),
    ("messages", "is_bulk"), ("messages", "subject_reply"), ("messages", "synthetic_id"),
    ("messages", "unparsable"), ("messages", "unread"), ("seen_changes", "seen"),
    ("thread_deals", "manual"), ("unsorted", "held"),
]
FLAG_REASON = "0/1 flag: SMALLINT NOT NULL CHECK (x IN (0, 1)) on PostgreSQL, INTEGER on SQLite"

# SQLite lets a non-INTEGER PRIMARY KEY column of a rowid table hold NULL (a documented SQLite
# quirk: https://sqlite.org/lang_createtable.html#the_primary_key); PostgreSQL makes every
# primary key column NOT NULL. crm-mail never stores a NULL key, so PostgreSQL's is the meaning.
PK_NULL_REASON = "PRIMARY KEY column: SQLite does not imply NOT NULL on a rowid table, PostgreSQL does"

# Issue 17: several workers sharing one PostgreSQL database. On SQLite one daemon holds the
# database and a second refuses to start, so none of this exists there.
WORKERS_REASON = ("PostgreSQL only (schema/postgresql/0002_workers.sql): several workers share "
                  "one database; on SQLite one daemon holds it")
FK_INDEX_REASON = ("PostgreSQL only (schema/postgresql/0003_fk_indexes.sql, built CONCURRENTLY): "
                   "the CRM application deletes users, companies and accounts while daemons run; "
                   "without these a foreign key action scans participants/locations under a lock")

ALLOWED = {}
for _t, _c in FLAGS:
    ALLOWED[("type", _t, _c)] = FLAG_REASON
    ALLOWED[("check-only-in-postgresql", _t, _c)] = FLAG_REASON
for _t, _c in [("company_domains", "domain"), ("contact_addresses", "address"),
               ("user_addresses", "address")]:
    ALLOWED[("not-null", _t, _c)] = PK_NULL_REASON
for _t in ["workers", "account_leases", "login_throttle"]:
    ALLOWED[("table-only-in-postgresql", _t, "")] = WORKERS_REASON
ALLOWED[("column-only-in-postgresql", "outbox", "sending_worker_id")] = WORKERS_REASON + \
    ": the worker that moved a reply to 'sending'"
ALLOWED[("column-only-in-postgresql", "outbox", "sending_epoch")] = WORKERS_REASON + \
    ": the lease epoch under which a reply went to 'sending'"
ALLOWED[("foreign-key-only-in-postgresql", "outbox", "(sending_worker_id) -> workers(id)")] = \
    WORKERS_REASON
ALLOWED[("trigger-only-in-postgresql", "accounts", "account_leases_create")] = WORKERS_REASON + \
    ": every account gets its lease row"
for _t, _i in [("participants", "participants_company"), ("participants", "participants_user"),
               ("locations", "locations_account"), ("locations", "locations_owner")]:
    ALLOWED[("index-only-in-postgresql", _t, _i)] = FK_INDEX_REASON
SEARCH_REASON = ("SQLite only (0014_search.sql): the FTS5 full-text index and its shadow tables; "
                 "PostgreSQL's backend answers searches with search.unavailable (issue 19)")
for _t in ("message_search", "message_search_config", "message_search_data",
           "message_search_docsize", "message_search_idx"):
    ALLOWED[("table-only-in-sqlite", _t, "")] = SEARCH_REASON
ALLOWED[("index-only-in-postgresql", "users", "users_email_lower")] = (
    "PostgreSQL only (0003_fk_indexes.sql): the login lookup lower(u.email) = lower($1); users is "
    "small, and SQLite's login query scans it as it always did")

# SQLite declared type -> PostgreSQL type (format_type).
TYPE_MAP = {"INTEGER": "bigint", "TEXT": "text", "BLOB": "bytea", "REAL": "double precision"}


def run(cmd, stdin=None, env=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        sys.stderr.write("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))
        sys.exit(2)
    return p.stdout


# ---- SQLite -------------------------------------------------------------------------------

def sqlite_json(db, sql):
    out = run(["sqlite3", "-json", db, sql])
    return json.loads(out) if out.strip() else []


def build_sqlite(schema_dir, db):
    files = sorted(glob.glob(os.path.join(schema_dir, "[0-9][0-9][0-9][0-9]_*.sql")))
    if not files:
        sys.exit("no SQLite migrations in %s" % schema_dir)
    for f in files:
        with open(f) as fh:
            # The sqlite3 shell lacks crm-mail's own FTS5 tokenizer; the tables are the same
            # with SQLite's.
            sql = fh.read().replace("tokenize = 'crm'", "tokenize = 'unicode61'")
            run(["sqlite3", "-bail", db], stdin="PRAGMA foreign_keys = ON;\n" + sql)
    return files


def norm_pred(p):
    if p is None:
        return None
    p = re.sub(r"::[a-z ]+", "", p.lower())
    return re.sub(r"[\s()\"]", "", p)


def norm_default(d):
    if d is None:
        return None
    d = d.strip()
    while d.startswith("(") and d.endswith(")"):
        d = d[1:-1].strip()
    d = re.sub(r"::[a-z ]+(\[\])?", "", d)
    # PostgreSQL quotes a literal outside int4's range: '-9223372036854775808'::bigint.
    m = re.fullmatch(r"'(-?\d+)'", d)
    return m.group(1) if m else d


def check_in_lists(sql):
    """CHECK (col IN ('a', 'b')) of a CREATE TABLE statement -> {col: frozenset of literals};
    CHECK (col BETWEEN lo AND hi) -> {col: frozenset({"lo..hi"})}."""
    out = {}
    for m in re.finditer(r"CHECK\s*\(\s*(\w+)\s+IN\s*\(([^)]*)\)\s*\)", sql, re.I):
        out[m.group(1)] = frozenset(x.strip() for x in m.group(2).split(","))
    for m in re.finditer(r"CHECK\s*\(\s*(\w+)\s+BETWEEN\s+(-?\d+)\s+AND\s+(-?\d+)\s*\)", sql, re.I):
        out[m.group(1)] = frozenset({"%s..%s" % (m.group(2), m.group(3))})
    return out


def sqlite_schema(db):
    s = {}
    for t in sqlite_json(db, "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND "
                             "name NOT LIKE 'sqlite_%'"):
        s[t["name"]] = {"columns": [], "pk": [], "uniques": set(), "indexes": {}, "fks": set(),
                        "checks": check_in_lists(t["sql"]), "other_checks": set(),
                        "triggers": set()}
    for c in sqlite_json(db, "SELECT m.name AS tbl, p.* FROM sqlite_schema m, "
                             "pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT "
                             "LIKE 'sqlite_%' ORDER BY m.name, p.cid"):
        t = s[c["tbl"]]
        t["columns"].append({"name": c["name"], "declared": c["type"],
                             "type": TYPE_MAP.get(c["type"].upper(), c["type"]),
                             "notnull": bool(c["notnull"]), "default": norm_default(c["dflt_value"]),
                             "pk": c["pk"]})
    for t in s.values():
        t["pk"] = [c["name"] for c in sorted(t["columns"], key=lambda c: c["pk"]) if c["pk"]]
    index_sql = {r["name"]: r["sql"] for r in sqlite_json(
        db, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL")}
    cols = {}
    for r in sqlite_json(db, "SELECT il.name AS idx, ii.seqno, ii.name FROM sqlite_schema m, "
                             "pragma_index_list(m.name) il, pragma_index_info(il.name) ii WHERE "
                             "m.type = 'table' ORDER BY il.name, ii.seqno"):
        cols.setdefault(r["idx"], []).append(r["name"] if r["name"] is not None else "<expr>")
    for r in sqlite_json(db, "SELECT m.name AS tbl, il.* FROM sqlite_schema m, "
                             "pragma_index_list(m.name) il WHERE m.type = 'table' AND m.name NOT "
                             "LIKE 'sqlite_%'"):
        t = s[r["tbl"]]
        c = tuple(cols.get(r["name"], []))
        if r["origin"] == "u":
            t["uniques"].add(c)
        elif r["origin"] == "c":
            sql = index_sql[r["name"]]
            m = re.search(r"\bWHERE\b(.*)$", sql, re.I | re.S)
            t["indexes"][r["name"]] = (bool(r["unique"]), c, norm_pred(m.group(1)) if m else None)
    fks = {}
    for r in sqlite_json(db, "SELECT m.name AS tbl, f.* FROM sqlite_schema m, "
                             "pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY "
                             "m.name, f.id, f.seq"):
        fks.setdefault((r["tbl"], r["id"]), []).append(r)
    for (tbl, _), rows in fks.items():
        s[tbl]["fks"].add(("(%s) -> %s(%s)" % (", ".join(r["from"] for r in rows), rows[0]["table"],
                                               ", ".join(r["to"] for r in rows)),
                           rows[0]["on_delete"].upper(), rows[0]["on_update"].upper()))
    for r in sqlite_json(db, "SELECT name, tbl_name FROM sqlite_schema WHERE type = 'trigger'"):
        s[r["tbl_name"]]["triggers"].add(r["name"])
    return s


# ---- PostgreSQL ---------------------------------------------------------------------------

PG_QUERY = r"""
WITH t AS (
    SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p'))
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(relname), '[]') FROM t),
  'columns', (SELECT coalesce(json_agg(json_build_object(
        'tbl', t.relname, 'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
        'notnull', a.attnotnull, 'default', pg_get_expr(d.adbin, d.adrelid),
        'identity', a.attidentity) ORDER BY t.relname, a.attnum), '[]')
      FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = t.oid AND d.adnum = a.attnum),
  'constraints', (SELECT coalesce(json_agg(json_build_object(
        'tbl', t.relname, 'name', c.conname, 'type', c.contype,
        'cols', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.conkey)
                 WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid
                 AND a.attnum = k.num),
        'ref', (SELECT relname FROM pg_class WHERE oid = c.confrelid),
        'refcols', (SELECT json_agg(a.attname ORDER BY k.ord) FROM unnest(c.confkey)
                    WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid
                    AND a.attnum = k.num),
        'ondelete', c.confdeltype, 'onupdate', c.confupdtype,
        'def', pg_get_constraintdef(c.oid))), '[]')
      FROM t JOIN pg_constraint c ON c.conrelid = t.oid),
  'indexes', (SELECT coalesce(json_agg(json_build_object(
        'tbl', t.relname, 'name', ic.relname, 'unique', i.indisunique, 'valid', i.indisvalid,
        'constraint', EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid
                              AND c.conrelid = i.indrelid),
        'cols', (SELECT json_agg(pg_get_indexdef(i.indexrelid, k, true) ORDER BY k)
                 FROM generate_series(1, i.indnkeyatts) k),
        'pred', pg_get_expr(i.indpred, i.indrelid))), '[]')
      FROM t JOIN pg_index i ON i.indrelid = t.oid JOIN pg_class ic ON ic.oid = i.indexrelid),
  'triggers', (SELECT coalesce(json_agg(json_build_object('tbl', t.relname, 'name', g.tgname)), '[]')
      FROM t JOIN pg_trigger g ON g.tgrelid = t.oid AND NOT g.tgisinternal))
"""

FK_ACTION = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}


def psql(url, env, *args, stdin=None):
    return run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args], stdin=stdin, env=env)


def build_postgresql(schema_dir, url, env):
    files = sorted(glob.glob(os.path.join(schema_dir, "postgresql", "[0-9][0-9][0-9][0-9]_*.sql")))
    if not files:
        sys.exit("no PostgreSQL migrations in %s/postgresql" % schema_dir)
    for f in files:
        with open(f) as fh:
            first = fh.readline().rstrip("\n")
        if first == NO_TRANSACTION:
            psql(url, env, "-f", f)
            psql(url, env, "-f", f)  # must be re-runnable
        else:
            psql(url, env, "-1", "-f", f)
    return files


def pg_schema(url, env):
    raw = json.loads(psql(url, env, "-At", "-c", PG_QUERY))
    s = {}
    for name in raw["tables"]:
        s[name] = {"columns": [], "pk": [], "uniques": set(), "indexes": {}, "fks": set(),
                   "checks": {}, "other_checks": set(), "triggers": set(), "invalid": []}
    for c in raw["columns"]:
        s[c["tbl"]]["columns"].append({
            "name": c["name"], "type": c["type"], "notnull": c["notnull"],
            "default": norm_default(c["default"]), "identity": c["identity"]})
    backing = set()
    for c in raw["constraints"]:
        t = s[c["tbl"]]
        if c["type"] == "p":
            t["pk"] = c["cols"]
            backing.add(c["name"])
        elif c["type"] == "u":
            t["uniques"].add(tuple(c["cols"]))
            backing.add(c["name"])
        elif c["type"] == "f":
            t["fks"].add(("(%s) -> %s(%s)" % (", ".join(c["cols"]), c["ref"], ", ".join(c["refcols"])),
                          FK_ACTION[c["ondelete"]], FK_ACTION[c["onupdate"]]))
        elif c["type"] == "c":
            m = re.fullmatch(r"CHECK \(\((\w+) = ANY \(ARRAY\[(.*)\]\)\)\)", c["def"])
            # BETWEEN, as PostgreSQL writes it back.
            r = re.fullmatch(r"CHECK \(\(\((\w+) >= (-?\d+)\) AND \((\w+) <= (-?\d+)\)\)\)", c["def"])
            if m:
                lits = frozenset(re.sub(r"::[a-z ]+$", "", x.strip())
                                 for x in m.group(2).split(","))
                t["checks"][m.group(1)] = lits
            elif r and r.group(1) == r.group(3):
                t["checks"][r.group(1)] = frozenset({"%s..%s" % (r.group(2), r.group(4))})
            else:
                t["other_checks"].add(c["def"])
    for i in raw["indexes"]:
        t = s[i["tbl"]]
        if not i["valid"]:
            t["invalid"].append(i["name"])
        if i["constraint"] or i["name"] in backing:
            continue
        cols = tuple(x.strip('"') for x in i["cols"])
        t["indexes"][i["name"]] = (i["unique"], cols, norm_pred(i["pred"]))
    for g in raw["triggers"]:
        s[g["tbl"]]["triggers"].add(g["name"])
    return s


# ---- Comparison ---------------------------------------------------------------------------

def compare(lite, pg):
    diffs = []  # (kind, table, item, detail)

    def add(kind, table, item, detail):
        diffs.append((kind, table, item, detail))

    for t in sorted(set(lite) - set(pg)):
        add("table-only-in-sqlite", t, "", "")
    for t in sorted(set(pg) - set(lite)):
        add("table-only-in-postgresql", t, "", "")
    for name in sorted(set(lite) & set(pg)):
        a, b = lite[name], pg[name]
        ac = {c["name"]: c for c in a["columns"]}
        bc = {c["name"]: c for c in b["columns"]}
        for c in sorted(set(ac) - set(bc)):
            add("column-only-in-sqlite", name, c, "")
        for c in sorted(set(bc) - set(ac)):
            add("column-only-in-postgresql", name, c, "")
        common_a = [c["name"] for c in a["columns"] if c["name"] in bc]
        common_b = [c["name"] for c in b["columns"] if c["name"] in ac]
        if common_a != common_b:
            add("column-order", name, "", "sqlite %s, postgresql %s" % (common_a, common_b))
        for c in common_a:
            x, y = ac[c], bc[c]
            if x["type"] != y["type"]:
                add("type", name, c, "sqlite %s (maps to %s), postgresql %s"
                    % (x["declared"], x["type"], y["type"]))
            # A SQLite INTEGER PRIMARY KEY is the rowid: never NULL, as PostgreSQL's identity.
            x_notnull = x["notnull"] or (x["pk"] and x["type"] == "bigint" and len(a["pk"]) == 1)
            if x_notnull != y["notnull"]:
                add("not-null", name, c, "sqlite %s, postgresql %s"
                    % ("NOT NULL" if x_notnull else "NULL", "NOT NULL" if y["notnull"] else "NULL"))
            if x["default"] != y["default"]:
                add("default", name, c, "sqlite %r, postgresql %r" % (x["default"], y["default"]))
        if a["pk"] != b["pk"]:
            add("primary-key", name, "", "sqlite %s, postgresql %s" % (a["pk"], b["pk"]))
        for u in sorted(a["uniques"] - b["uniques"]):
            add("unique-only-in-sqlite", name, "(%s)" % ", ".join(u), "")
        for u in sorted(b["uniques"] - a["uniques"]):
            add("unique-only-in-postgresql", name, "(%s)" % ", ".join(u), "")
        for i in sorted(set(a["indexes"]) - set(b["indexes"])):
            add("index-only-in-sqlite", name, i, str(a["indexes"][i]))
        for i in sorted(set(b["indexes"]) - set(a["indexes"])):
            add("index-only-in-postgresql", name, i, str(b["indexes"][i]))
        for i in sorted(set(a["indexes"]) & set(b["indexes"])):
            if a["indexes"][i] != b["indexes"][i]:
                add("index-definition", name, i, "sqlite %s (unique, columns, predicate), "
                    "postgresql %s" % (a["indexes"][i], b["indexes"][i]))
        afk = {f[0]: f for f in a["fks"]}
        bfk = {f[0]: f for f in b["fks"]}
        for f in sorted(set(afk) - set(bfk)):
            add("foreign-key-only-in-sqlite", name, f, "")
        for f in sorted(set(bfk) - set(afk)):
            add("foreign-key-only-in-postgresql", name, f, "")
        for f in sorted(set(afk) & set(bfk)):
            if afk[f] != bfk[f]:
                add("foreign-key-action", name, f, "sqlite ON DELETE %s ON UPDATE %s, postgresql "
                    "ON DELETE %s ON UPDATE %s" % (afk[f][1], afk[f][2], bfk[f][1], bfk[f][2]))
        for c in sorted(set(a["checks"]) - set(b["checks"])):
            add("check-only-in-sqlite", name, c, str(sorted(a["checks"][c])))
        for c in sorted(set(b["checks"]) - set(a["checks"])):
            add("check-only-in-postgresql", name, c, str(sorted(b["checks"][c])))
        for c in sorted(set(a["checks"]) & set(b["checks"])):
            if a["checks"][c] != b["checks"][c]:
                add("check-values", name, c, "sqlite %s, postgresql %s"
                    % (sorted(a["checks"][c]), sorted(b["checks"][c])))
        for c in sorted(b["other_checks"]):
            add("other-check-in-postgresql", name, c, "")
        for g in sorted(a["triggers"] - b["triggers"]):
            add("trigger-only-in-sqlite", name, g, "")
        for g in sorted(b["triggers"] - a["triggers"]):
            add("trigger-only-in-postgresql", name, g, "")
    for name in sorted(pg):
        for i in pg[name]["invalid"]:
            add("invalid-index", name, i, "a CONCURRENTLY build failed; drop it and run again")
    return diffs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url", help="PostgreSQL URL, e.g. postgresql://postgres@/postgres?host=/tmp/pg&port=5499")
    ap.add_argument("--schema", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                     "..", "..", "..", "schema"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch schema")
    args = ap.parse_args()
    schema_dir = os.path.normpath(args.schema)

    with tempfile.TemporaryDirectory(prefix="schema_parity.") as tmp:
        db = os.path.join(tmp, "parity.db")
        lite_files = build_sqlite(schema_dir, db)
        lite = sqlite_schema(db)

    scratch = "parity_%d" % os.getpid()
    env = dict(os.environ)
    env["PGOPTIONS"] = (env.get("PGOPTIONS", "") + " -c search_path=%s -c client_min_messages=warning"
                        % scratch).strip()
    psql(args.url, env, "-c", "CREATE SCHEMA %s" % scratch)
    try:
        pg_files = build_postgresql(schema_dir, args.url, env)
        pg = pg_schema(args.url, env)
    finally:
        if not args.keep:
            psql(args.url, env, "-c", "DROP SCHEMA %s CASCADE" % scratch)

    print("sqlite:     %d tables from %s" % (len(lite), ", ".join(os.path.basename(f) for f in lite_files)))
    print("postgresql: %d tables from %s%s" % (len(pg), ", ".join(os.path.basename(f) for f in pg_files),
                                               " (kept in schema %s)" % scratch if args.keep else ""))
    diffs = compare(lite, pg)
    failures, used = 0, set()
    for kind, table, item, detail in diffs:
        key = (kind, table, item)
        if key in ALLOWED:
            used.add(key)
            print("allowed: %s %s %s -- %s" % (kind, table, item, ALLOWED[key]))
        else:
            failures += 1
            print("DIFFERENCE: %s %s %s %s" % (kind, table, item, detail))
    for key in sorted(set(ALLOWED) - used):
        failures += 1
        print("STALE ALLOW-LIST ENTRY (matches no difference): %s %s %s" % key)
    checked = len(set(lite) & set(pg))
    print("%d tables compared, %d differences allowed, %d not allowed"
          % (checked, len(used), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
