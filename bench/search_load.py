#!/usr/bin/env python3
"""Closed-loop load on GET /api/v1/search; prints latency percentiles per kind of query.

    search_load.py BASE_URL TOKEN_FILE SECONDS [--clients N] [--label TEXT]

Each client loops over the kinds (bench/gen_maildir.py's vocabulary): one word, two words, a
phrase, a from: filter with a word, a Chinese substring of two characters and one of one
character, and the second page of a one-word query (its cursor). Keep-alive connections, one per
client. Standard library only. Non-2xx answers are counted as errors and reported.
"""
import http.client, json, random, sys, threading, time, urllib.parse

from api_load import load_args, pct  # the same arguments and percentiles

KINDS = {
    "one word": ["renewal", "invoice", "contract", "Angebot", "facture", "договор"],
    "two words": ["contract invoice", "pricing volume", "Rechnung Lieferung", "next week"],
    "phrase": ['"next week"', '"please attached"', '"nächste Woche"'],
    "from: + word": ["from:gmail.com meeting", "from:yahoo.com quote", "from:outlook.com order"],
    "chinese 2 chars": ["报价", "价格", "合同", "會議", "見積"],
    "chinese 1 char": ["价", "約", "会"],
    "page 2": ["renewal", "meeting", "quote"],
}


def main():
    a, u, headers = load_args()
    lat = {k: [] for k in KINDS}
    hits = {k: [] for k in KINDS}
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def get(conn, q, kind, cursor=None):
        path = "/api/v1/search?limit=25&q=" + urllib.parse.quote(q)
        if cursor:
            path += "&cursor=" + cursor
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        js = json.loads(body) if r.status == 200 else None
        with lock:
            if kind:
                lat[kind].append(ms)
                if js:
                    hits[kind].append(js["total"])
            if r.status // 100 != 2:
                errors.append((path, r.status, body[:200]))
        return js

    def client(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while time.monotonic() < stop:
            for kind, queries in KINDS.items():
                q = rng.choice(queries)
                if kind == "page 2":
                    first = get(conn, q, None)
                    if first and first["next_cursor"]:
                        get(conn, q, kind, first["next_cursor"])
                else:
                    get(conn, q, kind)

    ts = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("%s: %d clients, %.0f s" % (a.label or "search load", a.clients, a.seconds))
    print("  %-16s %6s %9s %8s %8s %8s %8s" % ("query", "count", "hits avg", "p50 ms", "p90 ms", "p99 ms", "max ms"))
    worst = 0.0
    for kind, v in lat.items():
        v.sort()
        avg_hits = sum(hits[kind]) / len(hits[kind]) if hits[kind] else 0
        print("  %-16s %6d %9.0f %8.1f %8.1f %8.1f %8.1f" % (kind, len(v), avg_hits, pct(v, 50), pct(v, 90),
                                                            pct(v, 99), v[-1] if v else float("nan")))
        if v:
            worst = max(worst, pct(v, 99))
    print("  errors: %d%s" % (len(errors), (" e.g. %r" % (errors[0],)) if errors else ""))
    print("  worst p99: %.1f ms (target < 100 ms): %s" % (worst, "met" if worst < 100 and not errors else "NOT met"))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
