#!/usr/bin/env python3
"""Closed-loop load on the thread lists' paging (issue 19): each client walks the deal with the
most threads a page at a time (limit 100, the next_cursor of each page) down to its end, then the
unsorted queue likewise, and starts again; prints latency percentiles per page depth (pages
before and after the 10,000th thread) and per list.

    paging_load.py BASE_URL TOKEN_FILE SECONDS [--clients N] [--label TEXT]

Target (issue 19): a page at the 10,000th thread of a deal in under 50 ms at p99. bench/api-bench.sh
runs it with API_LOAD=bench/paging_load.py; API_PREP_SQL there gives one deal 12,000 threads.
Standard library only; non-2xx answers are counted as errors and reported.
"""
import http.client, json, sys, threading, time

from api_load import load_args, pct


def main():
    a, u, headers = load_args()
    kinds = ("deal: first 10,000 threads", "deal: beyond the 10,000th thread", "unsorted")
    lat = {k: [] for k in kinds}
    deepest = [0]
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def get(conn, path):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        if r.status // 100 != 2:
            with lock:
                errors.append((path, r.status, body[:200]))
            return None, ms
        return json.loads(body), ms

    conn0 = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    deals, _ = get(conn0, "/api/v1/deals")
    if not deals or not deals["deals"]:
        print("no deals", file=sys.stderr)
        return 1
    big = max(deals["deals"], key=lambda d: d["threads"])
    print(f"{a.label}: deal {big['id']} with {big['threads']} threads; {a.clients} clients, "
          f"{a.seconds:.0f} s")

    def walk(conn, base, kind_of):
        cursor, seen = None, 0
        while time.monotonic() < stop:
            page, ms = get(conn, base + ("&cursor=" + cursor if cursor else ""))
            if page is None:
                return
            with lock:
                lat[kind_of(seen)].append(ms)
                deepest[0] = max(deepest[0], seen + len(page["threads"]))
            seen += len(page["threads"])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def client():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        while time.monotonic() < stop:
            walk(conn, f"/api/v1/deals/{big['id']}/threads?limit=100",
                 lambda seen: kinds[1] if seen >= 10_000 else kinds[0])
            walk(conn, "/api/v1/unsorted?limit=100", lambda seen: kinds[2])

    ts = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(f"  deepest thread reached: {deepest[0]}")
    for k in kinds:
        v = sorted(lat[k])
        print(f"  {k:34s} n={len(v):6d}  p50 {pct(v, 50):7.1f} ms  p90 {pct(v, 90):7.1f} ms  "
              f"p99 {pct(v, 99):7.1f} ms")
    if errors:
        print(f"  {len(errors)} errors, e.g. {errors[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
