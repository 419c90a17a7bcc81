#!/usr/bin/env python3
"""HTTP API checks over loopback against a running crm-maild (started by api_test.sh).

    api_test.py BASE_URL WORK_DIR DOVEADM IMAPS_PORT MAILD_PID
"""
import hashlib, http.client, json, os, select, socket, sqlite3, subprocess, sys, time, urllib.parse

base, work, doveadm, imaps_port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
maild_pid = int(sys.argv[5])
u = urllib.parse.urlparse(base)
HOST = u.netloc
ORIGIN = base
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok:", name)
    else:
        failed += 1
        print("FAIL:", name, detail)


def req(method, path, body=None, headers=None, cookie=None, token=None, host=HOST, conn=None):
    h = {"Host": host}
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        h["Content-Type"] = "application/json"
    if cookie:
        h["Cookie"] = cookie
    if token:
        h["Authorization"] = "Bearer " + token
    if method not in ("GET", "HEAD") and cookie:
        h["Origin"] = ORIGIN
    h.update(headers or {})
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    try:
        js = json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json") else None
    except ValueError:
        js = None
    return r.status, r, js, data


def wait_until(seconds, fn):
    end = time.time() + seconds
    while time.time() < end:
        try:
            if fn():
                return True
        except Exception:
            pass
        time.sleep(0.3)
    return False


PG_URL = os.environ.get("CRM_TEST_PG_URL")  # api_test.sh with CRM_TEST_BACKEND=postgresql


def q(sql):
    if PG_URL:
        # psql's unaligned output; integers come back as int, as from sqlite3 (NULL as "").
        out = subprocess.run(["psql", "-qtAX", "-F", "\x1f", PG_URL, "-c", sql],
                             capture_output=True, text=True, check=True).stdout
        return [tuple(int(v) if v.lstrip("-").isdigit() else v for v in line.split("\x1f"))
                for line in out.splitlines()]
    with sqlite3.connect(os.path.join(work, "crm.db"), timeout=10) as db:
        return db.execute(sql).fetchall()


def login(email, password):
    st, r, js, _ = req("POST", "/api/v1/auth/login", {"email": email, "password": password})
    sc = r.getheader("Set-Cookie", "")
    return st, sc.split(";")[0], sc


check("daemon serves /healthz", wait_until(30, lambda: req("GET", "/healthz")[0] == 200))
check("first mail synced", wait_until(30, lambda: q("SELECT count(*) FROM messages")[0][0] >= 1))
thread = q("SELECT thread_id FROM messages WHERE message_id='renewal-1@customer.example'")[0][0]
alice_token = open(os.path.join(work, "alice.token")).read().strip()

# --- attachment download: decoded again from the stored raw message, checked by its hash
check("mail with an attachment synced", wait_until(30, lambda: q("SELECT count(*) FROM messages WHERE message_id='prices-1@customer.example'")[0][0] == 1))
att_msg, att_sha, att_size = q("SELECT m.id, a.sha256, a.size FROM messages m JOIN attachments a ON a.message_id = m.id WHERE m.message_id='prices-1@customer.example' AND a.position = 0")[0]
check("attachment bytes not copied into blobs", q("SELECT count(*) FROM blobs WHERE sha256 = '%s'" % att_sha)[0][0] == 0)
st, r, _, data = req("GET", "/api/v1/messages/%d/attachments/0" % att_msg, token=alice_token)
check("attachment downloaded (200, exact bytes, stored hash and size)",
      st == 200 and data == b"product,price\nfleet,1200\nsupport,300\n" and hashlib.sha256(data).hexdigest() == att_sha and len(data) == att_size,
      (st, data[:80]))
check("attachment named in Content-Disposition", "Preis%C3%BCbersicht.csv" in r.getheader("Content-Disposition", ""), r.getheader("Content-Disposition"))

# --- Host, auth, sessions
st, *_ = req("GET", "/healthz", host="attacker.example:%d" % u.port)
check("foreign Host refused (421)", st == 421, st)
st = [req("GET", "/healthz", host=h)[0] for h in ("crm.example.test", "localhost:%d" % u.port, "[::1]:%d" % u.port)]
check("allowed_hosts and the loopback names with the port are served", st == [200, 200, 200], st)
st, _, js, _ = req("GET", "/api/v1/deals")
check("no credentials: 401 auth.required", st == 401 and js["error"]["code"] == "auth.required", js)
st, cookie, raw = login("alice@example.com", "alice-password-1")
check("login 200", st == 200, st)
check("cookie HttpOnly, SameSite=Strict, Path=/", all(x in raw for x in ("HttpOnly", "SameSite=Strict", "Path=/")), raw)
st, _, js, _ = req("GET", "/api/v1/me", cookie=cookie)
check("me: Alice with her account", st == 200 and js["user"]["id"] == 1 and [a["name"] for a in js["accounts"]] == ["alice"], js)
st, _, js, _ = req("GET", "/api/v1/deals", token=alice_token)
check("API token works", st == 200 and [d["id"] for d in js["deals"]] == [500], js)

# --- thread lists a page at a time (issue 19): true counts, cursors bound to their list
st, _, js, _ = req("GET", "/api/v1/deals/500/threads?limit=1", token=alice_token)
check("a deal's threads: a page of 1 with the total of 2 and a next cursor",
      st == 200 and len(js["threads"]) == 1 and js["total"] == 2 and js["next_cursor"], js)
deal_cursor = js["next_cursor"]
first_thread = js["threads"][0]["id"]
st, _, js, _ = req("GET", "/api/v1/deals/500/threads?limit=1&cursor=" + deal_cursor, token=alice_token)
check("the cursor gives the deal's other thread and ends the list",
      st == 200 and len(js["threads"]) == 1 and js["threads"][0]["id"] != first_thread and js["next_cursor"] is None, js)
st, _, js, _ = req("GET", "/api/v1/unsorted?cursor=" + deal_cursor, token=alice_token)
check("a deal's cursor on the unsorted list: 422 cursor.invalid",
      st == 422 and js["error"]["code"] == "cursor.invalid" and "deal-threads" in js["error"]["message"], (st, js))
st, _, js, _ = req("GET", "/api/v1/deals/500/threads?limit=501", token=alice_token)
check("limit 501: 422 naming limit", st == 422 and js["error"]["field"] == "limit", (st, js))
st, _, js, _ = req("GET", "/api/v1/unsorted?limit=1", token=alice_token)
check("the unsorted list carries its total", st == 200 and isinstance(js["total"], int) and js["total"] >= len(js["threads"]), js)

# --- search (issue 19): each viewer finds only what they may see; a bad query or cursor is named
def search(query, token, extra=""):
    return req("GET", "/api/v1/search?q=" + urllib.parse.quote(query) + extra, token=token)


if PG_URL:
    st, _, js, _ = search("renewal", alice_token)
    check("search on PostgreSQL: 501 search.unavailable", st == 501 and js["error"]["code"] == "search.unavailable", (st, js))
else:
    st, _, js, _ = search("preisubersicht", alice_token)
    check("search finds an attachment's file name, diacritics folded",
          st == 200 and [h["message"] for h in js["results"]] == [att_msg] and js["total"] == 1, js)
    st, _, js, _ = search("from:chloe", alice_token, "&limit=1")
    check("search pages: limit 1 of 2 hits with a next cursor",
          st == 200 and js["total"] == 2 and len(js["results"]) == 1 and js["next_cursor"], js)
    first, cursor = js["results"][0]["message"], js["next_cursor"]
    st, _, js, _ = search("from:chloe", alice_token, "&limit=1&cursor=" + cursor)
    check("the cursor gives the other hit, and no further cursor",
          st == 200 and len(js["results"]) == 1 and js["results"][0]["message"] != first and js["next_cursor"] is None, js)
    st, _, js, _ = search("renewal", alice_token, "&cursor=" + cursor)
    check("a cursor of another query: 422 cursor.invalid", st == 422 and js["error"]["code"] == "cursor.invalid"
          and js["error"]["field"] == "cursor", (st, js))
    st, _, js, _ = search("renewal before:2026-13-01", alice_token)
    check("a malformed query: 422 query.invalid naming the position",
          st == 422 and js["error"]["code"] == "query.invalid" and js["error"]["position"] == 16, (st, js))
    st, _, js, _ = search("renewal", alice_token, "&limit=0")
    check("limit 0: 422 naming limit", st == 422 and js["error"]["field"] == "limit", (st, js))
    st, bob_cookie, _ = login("bob@example.com", "bob-password-1")
    st, _, js, _ = req("GET", "/api/v1/search?q=renewal", cookie=bob_cookie)
    check("Bob finds none of Alice's mail", st == 200 and js["total"] == 0 and js["results"] == [], js)
    st, _, js, _ = search("renewal", open(os.path.join(work, "ada.token")).read().strip())
    check("the admin finds it", st == 200 and js["total"] == 1, js)

# --- the quarantine (issue 19), admins only: list, one entry, retry, drop; unknown ids named
ada_tok = open(os.path.join(work, "ada.token")).read().strip()
inbox = q("SELECT m.id FROM mailboxes m JOIN accounts a ON a.id = m.account_id WHERE a.name = 'alice' AND m.name = 'INBOX'")[0][0]
q("INSERT INTO quarantine (mailbox_id, uid_validity, uid, attempts, reason, first_failed_at, last_failed_at) "
  "VALUES (%d, 1, 9001, 3, 'mime: test failure', 10, 20), (%d, 1, 9002, 1, 'store: test', 30, 30)" % (inbox, inbox))
qid1, qid2 = "%d:1:9001" % inbox, "%d:1:9002" % inbox
st, _, js, _ = req("GET", "/api/v1/quarantine", token=alice_token)
check("quarantine: a salesperson gets 403", st == 403, (st, js))
st, _, js, _ = req("GET", "/api/v1/quarantine?account=alice", token=ada_tok)
entries = {e["id"]: e for e in (js or {}).get("quarantine", [])}
check("quarantine list: both entries with state, attempts and reason",
      st == 200 and entries.get(qid1, {}).get("state") == "given_up" and entries.get(qid2, {}).get("state") == "retrying"
      and entries[qid1]["attempts"] == 3 and entries[qid1]["reason"] == "mime: test failure" and entries[qid1]["mailbox"] == "INBOX", js)
st, _, js, _ = req("GET", "/api/v1/quarantine/" + qid1, token=ada_tok)
check("quarantine entry by id", st == 200 and js["entry"]["uid"] == 9001, (st, js))
st, body = 0, ""
try:
    mt = req("GET", "/metrics")[3].decode()
    check("/metrics counts the quarantine per account and state",
          'crm_account_quarantined_messages{account="alice",state="given_up"} 1' in mt
          and 'crm_account_quarantined_messages{account="alice",state="retrying"} 1' in mt,
          [l for l in mt.splitlines() if "quarantined" in l])
except Exception as e:  # noqa: BLE001
    check("/metrics readable", False, e)
st, _, js, _ = req("POST", "/api/v1/quarantine/%s/retry" % qid1, {}, token=ada_tok)
check("retry: 204, and the entry is gone (fetched again at the next pass)",
      st == 204 and req("GET", "/api/v1/quarantine/" + qid1, token=ada_tok)[0] == 404, st)
st, _, js, _ = req("POST", "/api/v1/quarantine/%s/drop" % qid2, {}, token=ada_tok)
check("drop: 204, and the entry leaves the list",
      st == 204 and qid2 not in [e["id"] for e in req("GET", "/api/v1/quarantine", token=ada_tok)[2]["quarantine"]], st)
check("a dropped message stays excluded from the sync", q("SELECT count(*) FROM quarantine WHERE uid = 9002 AND dropped_at IS NOT NULL")[0][0] == 1)
st, _, js, _ = req("POST", "/api/v1/quarantine/%d:1:424242/retry" % inbox, {}, token=ada_tok)
check("retrying an id that does not exist: 404 naming it", st == 404 and "424242" in js["error"]["message"], (st, js))
st, _, js, _ = req("GET", "/api/v1/quarantine/not-an-id", token=ada_tok)
check("a malformed id: 422 naming id", st == 422 and js["error"]["field"] == "id", (st, js))

# --- CSRF and bodies
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, {"unread": False}, cookie=cookie, headers={"Origin": "http://evil.example"})
check("foreign Origin refused (403 csrf.origin)", st == 403 and js["error"]["code"] == "csrf.origin", (st, js))
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, "unread=false", cookie=cookie, headers={"Content-Type": "application/x-www-form-urlencoded"})
check("form body refused (415)", st == 415, st)
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, {"unread": "no"}, cookie=cookie)
check("bad field named (422, field unread)", st == 422 and js["error"]["field"] == "unread", js)
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, {"unread": False, "extra": 1}, cookie=cookie)
check("unknown field named (422, field extra)", st == 422 and js["error"]["field"] == "extra", js)
st, *_ = req("PUT", "/api/v1/deals", cookie=cookie)
check("wrong method 405", st == 405, st)
st, *_ = req("GET", "/api/v1/threads/999999", cookie=cookie)
check("unknown thread 404", st == 404, st)

# --- read state mirrored to \Seen (alice has mirror_seen = true)
def flags():
    out = subprocess.run(doveadm.split() + ["fetch", "-u", "alice", "flags", "mailbox", "INBOX",
                                            "header", "message-id", "renewal-1@customer.example"],
                         capture_output=True, text=True).stdout
    return out
check("not \\Seen on the server at first", "\\Seen" not in flags(), flags())
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, {"unread": False}, cookie=cookie)
check("mark read 200, unread_count 0", st == 200 and js["thread"]["unread_count"] == 0, js)
check("\\Seen set on the server", wait_until(20, lambda: "\\Seen" in flags()), flags())
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % thread, {"unread": True}, cookie=cookie)
check("mark unread 200", st == 200 and js["thread"]["unread_count"] == 1, js)
check("\\Seen cleared on the server", wait_until(20, lambda: "\\Seen" not in flags()), flags())
time.sleep(11)  # a sync pass later the CRM still says unread (the server agrees)
st, _, js, _ = req("GET", "/api/v1/threads/%d" % thread, cookie=cookie)
check("read state stable across a sync pass", st == 200 and js["messages"][0]["unread"] is True, js)

# --- read state per user (issue 19): Alice and Bob both got visit-1; each reads for themselves,
# and \Seen is mirrored only to the reader's own mailbox (both accounts mirror).
def flags_of(user, mid):
    return subprocess.run(doveadm.split() + ["fetch", "-u", user, "flags", "mailbox", "INBOX",
                                             "header", "message-id", mid],
                          capture_output=True, text=True).stdout
visit = "visit-1@partner.example"
check("the shared message stored once, in both mailboxes",
      wait_until(30, lambda: q("SELECT count(*) FROM locations l JOIN messages m ON m.id = l.message_id "
                               "WHERE m.message_id = '%s'" % visit)[0][0] == 2))
vthread = q("SELECT thread_id FROM messages WHERE message_id = '%s'" % visit)[0][0]
st, bob_cookie, _ = login("bob@example.com", "bob-password-1")
st, _, js, _ = req("GET", "/api/v1/threads/%d" % vthread, cookie=bob_cookie)
check("unread for Bob at first", st == 200 and js["thread"]["unread_count"] == 1, (st, js))
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % vthread, {"unread": False}, token=alice_token)
check("Alice reads it: unread_count 0 for her", st == 200 and js["thread"]["unread_count"] == 0, (st, js))
st, _, js, _ = req("GET", "/api/v1/threads/%d" % vthread, cookie=bob_cookie)
check("still unread for Bob", st == 200 and js["thread"]["unread_count"] == 1 and js["messages"][0]["unread"] is True, js)
check("\\Seen set in Alice's mailbox", wait_until(20, lambda: "\\Seen" in flags_of("alice", visit)), flags_of("alice", visit))
time.sleep(2)
check("\\Seen not set in Bob's mailbox", "\\Seen" not in flags_of("bob", visit), flags_of("bob", visit))
if not PG_URL:
    st, _, js, _ = req("GET", "/api/v1/search?q=" + urllib.parse.quote("visit is:unread"), cookie=bob_cookie)
    check("Bob's is:unread finds it", st == 200 and js["total"] == 1 and js["results"][0]["unread"] is True, js)
    st, _, js, _ = search("visit is:unread", alice_token)
    check("Alice's is:unread does not", st == 200 and js["total"] == 0, js)
st, _, js, _ = req("POST", "/api/v1/threads/%d/read" % vthread, {"unread": False}, cookie=bob_cookie)
check("Bob reads it", st == 200 and js["thread"]["unread_count"] == 0, (st, js))
check("\\Seen set in Bob's mailbox", wait_until(20, lambda: "\\Seen" in flags_of("bob", visit)), flags_of("bob", visit))
check("read for everyone: the operator's flag follows",
      q("SELECT unread FROM messages WHERE message_id = '%s'" % visit)[0][0] == 0)

# --- who may do what
st, bob_cookie, _ = login("bob@example.com", "bob-password-1")
st, _, js, _ = req("GET", "/api/v1/deals", cookie=bob_cookie)
check("Bob does not see Alice's private deal", st == 200 and js["deals"] == [], js)
st, *_ = req("GET", "/api/v1/threads/%d" % thread, cookie=bob_cookie)
check("Bob cannot read Alice's thread (404)", st == 404, st)
st, _, js, _ = req("POST", "/api/v1/threads/%d/reply" % thread, {"account": "bob", "body": "hi"}, token=alice_token)
check("Alice cannot send from Bob's account (403, field account)", st == 403 and js["error"]["field"] == "account", js)
st, *_ = req("GET", "/api/v1/accounts", cookie=bob_cookie)
check("salesperson cannot list accounts (403)", st == 403, st)

# --- login throttling
for i in range(5):
    login("bob@example.com", "wrong")
st, r, js, _ = req("POST", "/api/v1/auth/login", {"email": "bob@example.com", "password": "bob-password-1"})
check("6th attempt throttled (429 + Retry-After)", st == 429 and r.getheader("Retry-After"), (st, js))

# --- admin: accounts
st, ada, _ = login("ada@example.com", "ada-password-1")
st, _, js, data = req("GET", "/api/v1/accounts", cookie=ada)
check("admin lists accounts", st == 200 and sorted(a["name"] for a in js["accounts"]) == ["alice", "bob"], js)
check("no secret in the account list", b"pw" not in data and b"password_file" not in data, data[:300])
alice_acc = [a for a in js["accounts"] if a["name"] == "alice"][0]
check("health: alice idle or syncing with messages", alice_acc["state"] in ("idle", "syncing") and alice_acc["messages_synced"] >= 1, alice_acc)
st, _, js, _ = req("POST", "/api/v1/accounts/alice/test", {}, cookie=ada)
check("test connection ok (step done)", st == 200 and js["ok"] is True and js["step"] == "done", js)

def add(name, imap, expect=201):
    body = {"name": name, "owner_id": 2, "address": name + "@example.com", "imap": imap}
    st, _, js, _ = req("POST", "/api/v1/accounts", body, cookie=ada)
    check("add account %s (%d)" % (name, expect), st == expect, (st, js))
    return js

def test_step(name):
    st, _, js, _ = req("POST", "/api/v1/accounts/%s/test" % name, {}, cookie=ada)
    return js

add("wrongpw", {"host": "127.0.0.1", "port": imaps_port, "ca_file": os.path.join(work, "dc/tls/ca.crt"), "username": "bob", "password": "nope"})
js = test_step("wrongpw")
check("wrong password: step auth", js["ok"] is False and js["step"] == "auth", js)
add("untrusted", {"host": "127.0.0.1", "port": imaps_port, "username": "bob", "password": "bob-pw"})
js = test_step("untrusted")
check("untrusted certificate: step tls, names the certificate", js["step"] == "tls" and "certif" in js["message"].lower(), js)
add("closed", {"host": "127.0.0.1", "port": 1, "tls": "implicit", "username": "bob", "password": "x"})
js = test_step("closed")
check("closed port: step tcp", js["step"] == "tcp", js)
add("nodns", {"host": "no-such-host.invalid", "username": "bob", "password": "x"})
js = test_step("nodns")
check("unknown host: step dns", js["step"] == "dns", js)
js = add("bad port", {"host": "x"}, expect=422)
st, _, js, _ = req("POST", "/api/v1/accounts", {"name": "p", "owner_id": 2, "address": "p@example.com", "imap": {"host": "h", "port": 70000, "password": "x"}}, cookie=ada)
check("port out of range names imap.port", st == 422 and js["error"]["field"] == "imap.port", js)
conf = open(os.path.join(work, "etc/crm.toml")).read()
check("accounts written to the config, secrets not", 'name = "wrongpw"' in conf and "nope" not in conf, conf[-400:])
mode = oct(os.stat(os.path.join(work, "etc/secrets/wrongpw")).st_mode & 0o777)
check("secret file is 0600", mode == "0o600", mode)
check("daemon applied the new accounts", wait_until(20, lambda: q("SELECT count(*) FROM accounts WHERE name IN ('wrongpw','untrusted','closed','nodns')")[0][0] == 4))
check("wrong password ends in needs_reauth", wait_until(30, lambda: q("SELECT state FROM accounts WHERE name='wrongpw'")[0][0] == "needs_reauth"),
      q("SELECT state, last_error FROM accounts WHERE name='wrongpw'"))
st, _, js, _ = req("PATCH", "/api/v1/accounts/bob", {"enabled": False}, cookie=ada)
check("disable bob (200, state disabled)", st == 200 and js["account"]["state"] == "disabled", js)
check("disabled in the database", wait_until(20, lambda: q("SELECT enabled FROM accounts WHERE name='bob'")[0][0] == 0))
st, _, js, _ = req("POST", "/api/v1/accounts/alice/resync", {}, cookie=ada)
check("resync accepted (202)", st == 202, (st, js))
st, _, _, data = req("GET", "/metrics")
check("/metrics has account states", b'crm_account_state{account="alice"' in data, data[:300])
# A reverse proxy on this host forwards other clients: they need the token of metrics_token_file.
fwd = {"X-Forwarded-For": "203.0.113.9"}
st, r, _, data = req("GET", "/metrics", headers=fwd)
check("/metrics through a proxy without the token: 401, no account names", st == 401 and b"alice" not in data, (st, data[:200]))
st, _, _, data = req("GET", "/metrics", headers=dict(fwd, Authorization="Bearer wrong-token"))
check("/metrics with a wrong token: 401", st == 401, st)
st, _, _, data = req("GET", "/metrics", headers=dict(fwd, Authorization="Bearer api-test-metrics-token"))
check("/metrics with the token: 200", st == 200 and b"crm_account_state" in data, (st, data[:200]))

# --- HTTP level
s = socket.create_connection((u.hostname, u.port))
s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
resp = s.recv(4096)
check("malformed request: 400", resp.startswith(b"HTTP/1.1 400"), resp[:60])
s.close()
s = socket.create_connection((u.hostname, u.port))
s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n" % HOST.encode())
resp = s.recv(4096)
check("3 MB body: 413", resp.startswith(b"HTTP/1.1 413"), resp[:60])
s.close()
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
a = req("GET", "/healthz", conn=conn)[0]
b = req("GET", "/api/v1/me", cookie=cookie, conn=conn)[0]
check("keep-alive: two requests on one connection", a == 200 and b == 200, (a, b))
st, r, _, data = req("GET", "/")
check("page served with a strict CSP", st == 200 and "script-src 'self'" in r.getheader("Content-Security-Policy", ""), r.getheader("Content-Security-Policy"))
st, *_ = req("POST", "/api/v1/auth/logout", {}, cookie=cookie)
st2, *_ = req("GET", "/api/v1/me", cookie=cookie)
check("logout ends the session", st == 204 and st2 == 401, (st, st2))

# --- concurrent logins and writes on separate API connections (a login's slow password check
# must not make its session write fail, and nothing may take the daemon down)
import threading
results = []
def logins():
    for _ in range(6):
        results.append(login("alice@example.com", "alice-password-1")[0])
def marks():
    for i in range(12):
        results.append(req("POST", "/api/v1/threads/%d/read" % thread, {"unread": i % 2 == 0}, token=alice_token)[0])
ts = [threading.Thread(target=logins) for _ in range(3)] + [threading.Thread(target=marks)]
for t in ts: t.start()
for t in ts: t.join()
check("30 concurrent logins and writes all succeed", results.count(200) == len(results) == 30, results)
check("daemon still up", req("GET", "/healthz")[0] == 200)

# --- every path and method of docs/openapi.yaml is served (no 405, no "no such path")
try:
    import yaml
    spec = yaml.safe_load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../docs/openapi.yaml")))
    ada_token = open(os.path.join(work, "ada.token")).read().strip()
    msg = q("SELECT id FROM messages LIMIT 1")[0][0]
    missing = []
    for path, item in spec["paths"].items():
        for method in ("get", "post", "patch", "delete", "put"):
            if method not in item:
                continue
            p = (path.replace("{id}", str(msg if "/messages/" in path else thread))
                     .replace("{name}", "alice").replace("{position}", "0"))
            if "/outbox/" in p:
                p = p.replace(str(thread), "1")
            body = {} if method in ("post", "patch") else None
            if p.endswith("/auth/logout") or p.endswith("/resync") or p.endswith("/test"):
                body = {}
            st, _, js, _ = req(method.upper(), p, body, token=ada_token)
            routed = st != 405 and not (st == 404 and js and "path" in js["error"]["message"])
            if not routed:
                missing.append((method, path, st))
    check("every OpenAPI operation is routed", not missing, missing)
except ImportError:
    check("python3-yaml for the OpenAPI check", False, "install python3-yaml")

# --- limits (api_test.sh: max_connections = 128; max_body_bytes_in_flight: 64 MiB, the default)
def connect(data=b""):
    s = socket.create_connection((u.hostname, u.port), timeout=20)
    if data:
        s.sendall(data)
    return s


def response(s):
    """(status, lower-case headers, body) of one response, or None when the connection closed."""
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                return None
            buf += chunk
        head, _, body = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
        while len(body) < int(headers.get("content-length", "0")):
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
    except OSError:
        return None
    return int(lines[0].split()[1]), headers, body


def unavailable(r):
    try:
        return r[0] == 503 and r[1].get("retry-after") == "1" and json.loads(r[2])["error"]["code"] == "unavailable"
    except (TypeError, ValueError, KeyError):
        return False


def vm_kib(field):
    for line in open("/proc/%d/status" % maild_pid):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def maild_log():
    return open(os.path.join(work, "maild.log"), errors="replace").read()


conn.close()
GET = b"GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n" % HOST.encode()
served = []
first_refused = None
for i in range(140):
    s = connect(GET)
    r = response(s)
    if r and r[0] == 200:
        served.append(s)
    else:
        first_refused = r
        s.close()
        break
# (a keep-alive connection of the checks above may still hold a slot)
print("max_connections = 128: %d connections served at once, the next one refused" % len(served))
check("max_connections: about 128 connections served at once", 120 <= len(served) <= 128, len(served))
check("the next connection gets 503, Retry-After and the JSON error", unavailable(first_refused), first_refused)
for s in served:
    s.close()
check("served again once connections close", wait_until(10, lambda: req("GET", "/healthz")[0] == 200))

# 100 clients each send a 2 MB login body (the largest allowed is 2 MiB) and stop one byte
# short: only what fits into max_body_bytes_in_flight is read, the others get 503 at once.
N, SIZE = 100, 2_000_000
prefix = b'{"email":"x@example.com","password":"'
body = prefix + b"a" * (SIZE - len(prefix) - 2) + b'"}'
head = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % (HOST.encode(), len(body)))
rss_before = vm_kib("VmRSS")
held, refused = [], []
for i in range(N):
    s = connect(head)
    if select.select([s], [], [], 0.2)[0]:  # answered before its body was sent
        refused.append(response(s))
        s.close()
        continue
    try:
        s.sendall(body[:-1])
        held.append(s)
    except OSError:  # refused while the body was on its way
        refused.append(response(s))
        s.close()
time.sleep(1)
rss_loaded = vm_kib("VmRSS")
answers = []
for s in held:
    s.sendall(body[-1:])
    answers.append(response(s))
    s.close()
rss_after = vm_kib("VmRSS")
print("body cap: %d connections x %d-byte bodies: %d read (%.1f MB in flight), %d refused with 503; "
      "crm-maild VmRSS %.1f MB before, %.1f MB with the bodies in flight, %.1f MB after"
      % (N, len(body), len(held), len(held) * len(body) / 1e6, len(refused), rss_before / 1024,
         rss_loaded / 1024, rss_after / 1024))
check("bodies in flight stay within 64 MiB", 1 <= len(held) and len(held) * len(body) <= 64 << 20, len(held))
check("every other client got 503 before its body", len(held) + len(refused) == N and all(unavailable(r) for r in refused),
      [r for r in refused if not unavailable(r)][:3])
check("the bodies read were handled (422: password too long)", all(a and a[0] == 422 for a in answers), [a and a[0] for a in answers])
check("RSS grew by less than the cap and 32 MiB", (rss_loaded - rss_before) < (64 + 32) * 1024, (rss_before, rss_loaded))

# Out of file descriptors: crm-maild's limit lowered to its lowest free descriptor number (every
# one below is taken); accept fails, is retried and logged once; once descriptors are free again
# it serves as before.
limits = subprocess.run(["prlimit", "--pid", str(maild_pid), "--nofile", "--raw", "--noheadings",
                         "--output=SOFT,HARD"], capture_output=True, text=True, check=True).stdout.split()
open_fds = {int(fd) for fd in os.listdir("/proc/%d/fd" % maild_pid)}
lowest_free = next(fd for fd in range(len(open_fds) + 1) if fd not in open_fds)
subprocess.run(["prlimit", "--pid", str(maild_pid), "--nofile=%d:" % lowest_free], check=True)
try:
    waiting = [connect(GET) for _ in range(40)]  # the listen queue takes them
    time.sleep(2.5)  # 50, 100, 200, 400, 800 ms: six attempts at least
    failures = maild_log().count("cannot accept connections: Too many open files")
finally:
    subprocess.run(["prlimit", "--pid", str(maild_pid), "--nofile=%s:" % limits[0]], check=True)
check("accept failure logged", failures >= 1, failures)
answered = [response(s) for s in waiting]
check("the connections that waited are served", all(r and r[0] == 200 for r in answered),
      [r and r[0] for r in answered])
for s in waiting:
    s.close()
check("serving again", req("GET", "/healthz")[0] == 200)
log = maild_log()
# Once per episode, not per attempt: each failure line has its recovery line, which counts the
# attempts. Usually one episode; a descriptor freed meanwhile (an account's connection closing)
# lets one accept through, and the next runs out again: a second episode, logged the same way.
import re
attempts = [int(n) for n in re.findall(r"accepting connections again after (\d+) failed attempts", log)]
check("recovery logged once per failure episode, counting the attempts",
      1 <= len(attempts) <= 3 and len(attempts) == log.count("cannot accept connections")
      and sum(attempts) > len(attempts), [l for l in log.splitlines() if "accept" in l])

# --- re-sorting when the CRM changes (issue 19): the CRM application writes SQL (a company, its
# domain, a contact and an open deal of Alice's for Dora's company); the daemon notices within
# seconds and files Dora's unsorted thread under that deal.
st, _, js, _ = req("GET", "/api/v1/threads/%d" % vthread, token=alice_token)
check("Dora's thread starts unsorted", st == 200 and js["thread"]["deal"] is None, js)
now_s = int(time.time())
q("INSERT INTO companies (id, name, created_at, updated_at) VALUES (20, 'Partner', %d, %d)" % (now_s, now_s))
q("INSERT INTO company_domains (domain, company_id) VALUES ('partner.example', 20)")
q("INSERT INTO contacts (id, name, company_id, created_at, updated_at) VALUES (200, 'Dora', 20, %d, %d)" % (now_s, now_s))
q("INSERT INTO contact_addresses (address, contact_id, written) VALUES ('dora@partner.example', 200, 'dora@partner.example')")
q("INSERT INTO deals (id, name, company_id, owner_id, stage, status, created_at, updated_at) "
  "VALUES (501, 'Partner visit', 20, 1, 'lead', 'open', %d, %d)" % (now_s, now_s))
t0 = time.time()
check("re-sorted by the daemon within 10 s of the CRM's write",
      wait_until(10, lambda: (req("GET", "/api/v1/threads/%d" % vthread, token=alice_token)[2]["thread"]["deal"] or {}).get("id") == 501),
      req("GET", "/api/v1/threads/%d" % vthread, token=alice_token)[2])
print("re-sort took %.1f s" % (time.time() - t0))
st, _, js, _ = req("GET", "/api/v1/threads/%d" % vthread, token=alice_token)
check("its reason says it was sorted again", st == 200 and js["thread"]["reason"].startswith("re-sorted: "), js)
st, _, js, _ = req("GET", "/api/v1/unsorted?limit=500", token=alice_token)
check("and it left Alice's unsorted list", st == 200 and vthread not in [t["id"] for t in js["threads"]], js)

# --- completeness (issue 19): Alice's folders compared with Dovecot, over the API and the CLI
def check_cli():
    cmd = [os.environ["CRM_TEST_CTL"], "--config", os.path.join(work, "etc", "crm.toml")]
    if not PG_URL:
        cmd += ["--db", os.path.join(work, "crm.db")]
    p = subprocess.run(cmd + ["accounts", "check", "alice", "--json"], capture_output=True, text=True)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        return p.returncode, {"stdout": p.stdout, "stderr": p.stderr}
st, _, js, _ = req("GET", "/api/v1/accounts/alice/completeness", token=ada_tok)
inbox = [f for f in (js or {}).get("folders", []) if f["folder"] == "INBOX"]
check("completeness: Alice's INBOX, every message on the server stored",
      st == 200 and inbox and inbox[0]["server"] >= 3 and inbox[0]["server"] == inbox[0]["stored"] + inbox[0]["quarantined"]
      and inbox[0]["missing_count"] == 0 and inbox[0]["server_uid_validity"] == inbox[0]["stored_uid_validity"], (st, js))
rc, out = check_cli()
check("accounts check --json agrees (exit 0)", rc == 0 and out.get("complete") is True, (rc, out))
# A stored copy lost here (its row deleted): the comparison names its UID as missing. The account
# is disabled first: its sync would notice the folder's count and fetch the message again.
st, _, js, _ = req("PATCH", "/api/v1/accounts/alice", {"enabled": False}, token=ada_tok)
check("alice disabled for the completeness check", st == 200
      and wait_until(20, lambda: q("SELECT state FROM accounts WHERE name = 'alice'")[0][0] == "disabled"), (st, js))
lost_uid = q("SELECT l.uid FROM locations l JOIN messages m ON m.id = l.message_id JOIN accounts a ON a.id = l.account_id "
             "WHERE a.name = 'alice' AND m.message_id = 'prices-1@customer.example'")[0][0]
q("DELETE FROM locations WHERE uid = %d AND account_id = (SELECT id FROM accounts WHERE name = 'alice') "
  "AND mailbox_id = (SELECT id FROM mailboxes WHERE name = 'INBOX' AND account_id = (SELECT id FROM accounts WHERE name = 'alice'))" % lost_uid)
st, _, js, _ = req("GET", "/api/v1/accounts/alice/completeness", token=ada_tok)
inbox = [f for f in (js or {}).get("folders", []) if f["folder"] == "INBOX"]
check("completeness names the missing UID", st == 200 and js["complete"] is False and inbox
      and inbox[0]["missing_count"] == 1 and inbox[0]["missing"] == [lost_uid], (st, js, lost_uid))
rc, out = check_cli()
check("accounts check exits 1 and names it", rc == 1 and any(lost_uid in f["missing"] for f in out.get("folders", [])), (rc, out))
st, _, js, _ = req("GET", "/api/v1/accounts/alice/completeness", token=alice_token)
check("completeness is for admins (403)", st == 403, st)

sql = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "deal_stats_check.sql")).read()
check("deal counters equal the linked threads", q(sql)[0][0] == 0, q(sql))

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
