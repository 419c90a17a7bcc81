#!/usr/bin/env bash
# Thread view latency on a long HTML thread: COUNT mails of SIZE bytes of HTML each (default 20
# of 1 MB) in one conversation (bench/gen_html_thread.py), imported into a fresh database and
# served by crm-maild. Prints the first view (every body sanitised) and then p50/p90/p99/max over
# ROUNDS further views of
#   - the thread JSON (GET /api/v1/threads/{id}), and
#   - the whole page: the JSON and then every message's HTML frame (GET .../html), one by one.
# Target (issue 15): the thread JSON's p99 under 100 ms after the first view.
# Usage: bench/html-thread-bench.sh [COUNT] [SIZE] [ROUNDS]. Builds the release preset first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
count=${1:-20}
size=${2:-1000000}
rounds=${3:-50}
scripts/build.sh release >/dev/null
ctl=$root/build/release/src/ctl/crm-mailctl
maild=$root/build/release/src/daemon/crm-maild
work=${BENCH_DIR:-$root/build/bench}/html-thread
rm -rf "$work"
mkdir -p "$work"
python3 bench/gen_html_thread.py "$work/mail" --count "$count" --size "$size"
db=$work/crm.db
"$ctl" --db "$db" db migrate >/dev/null
printf 'id,name,email,role\n1,Alice,alice@northwind-sales.example,salesperson\n' >"$work/users.csv"
"$ctl" --db "$db" crm import users "$work/users.csv" >/dev/null
"$ctl" --db "$db" import --owner 1 "$work/mail" >/dev/null
thread=$(sqlite3 "$db" "SELECT thread_id FROM messages GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1")
echo "database: $(sqlite3 "$db" "SELECT count(*) || ' messages in ' || count(DISTINCT thread_id) || ' thread(s), ' || (sum(length(CAST(html_body AS BLOB))) / 1000000) || ' MB of HTML' FROM messages")"
"$ctl" --db "$db" tokens create 1 --name bench >"$work/token" 2>/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/crm.toml" <<TOML
allow_inline_secrets = true
[database]
path = "$db"
[http]
port = $port
[[accounts]]
name = "alice"
owner_id = 1
address = "alice@northwind-sales.example"
enabled = false
[accounts.imap]
host = "127.0.0.1"
port = 993
username = "alice"
password = "unused"
TOML
"$maild" --config "$work/crm.toml" 2>"$work/maild.log" & pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
python3 - "$port" "$(cat "$work/token")" "$thread" "$rounds" <<'PY'
import http.client, json, sys, time
port, token, thread, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
h = {"Authorization": "Bearer " + token, "Host": f"127.0.0.1:{port}"}
c = http.client.HTTPConnection("127.0.0.1", int(port))
def get(path):
    t = time.perf_counter()
    c.request("GET", path, headers=h)
    r = c.getresponse(); body = r.read()
    if r.status != 200:
        sys.exit(f"GET {path}: {r.status} {body[:200]!r}")
    return (time.perf_counter() - t) * 1000, body
def view():
    ms, body = get(f"/api/v1/threads/{thread}")
    total = ms; nbytes = len(body)
    for m in json.loads(body)["messages"]:
        if m["html_url"]:
            t, b = get(m["html_url"]); total += t; nbytes += len(b)
    return ms, total, nbytes
def pct(v, p):
    v = sorted(v); return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]
first = view()
print(f"first view: thread JSON {first[0]:.0f} ms, whole page {first[1]:.0f} ms ({first[2]/1e6:.1f} MB)")
js, page = [], []
for _ in range(rounds):
    a, b, _n = view(); js.append(a); page.append(b)
for name, v in (("thread JSON", js), ("whole page", page)):
    print(f"after the first view, {rounds} views: {name}: p50 {pct(v,50):.1f} ms, p90 {pct(v,90):.1f} ms, "
          f"p99 {pct(v,99):.1f} ms, max {max(v):.1f} ms")
c.request("GET", "/metrics", headers={"Host": f"127.0.0.1:{port}"}); m = c.getresponse().read().decode()
print("  " + ", ".join(l for l in m.splitlines() if l.startswith("crm_html_cache")))
PY
echo "daemon RSS after the run: $(ps -o rss= -p $pid | awk '{printf "%.0f MB", $1/1024}')"
