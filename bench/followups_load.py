#!/usr/bin/env python3
"""Closed-loop load on follow-ups and deal activity (issue 20): each client asks, in turn, each
deal owner's follow-up list (GET /api/v1/followups?user=ID, as the admin token may) and the
activity of a deal (GET /api/v1/deals/{id}/activity: the deal with the most threads every fourth
time, else the next of the others); prints latency percentiles per kind.

    followups_load.py BASE_URL TOKEN_FILE SECONDS [--clients N] [--label TEXT]

Target (issue 20): p99 under 50 ms for both on the 100,000-message benchmark database while the
daemon ingests. bench/followups-bench.sh runs it through bench/api-bench.sh.
Standard library only; non-2xx answers are counted as errors and reported.
"""
import http.client, itertools, json, sys, threading, time

from api_load import load_args, pct


def main():
    a, u, headers = load_args()
    kinds = ("followups (one salesperson)", "deal activity (a typical deal)",
             "deal activity (the biggest deal)")
    lat = {k: [] for k in kinds}
    errors = []
    sizes = []
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def get(conn, path, kind):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        with lock:
            if kind:
                lat[kind].append(ms)
            if r.status // 100 != 2:
                errors.append((path, r.status, body[:200]))
                return None
        return json.loads(body)

    conn0 = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    deals = get(conn0, "/api/v1/deals?limit=500", None)
    if not deals or not deals["deals"]:
        print("no deals", file=sys.stderr)
        return 1
    owners = sorted({d["owner"]["id"] for d in deals["deals"] if d.get("owner")})
    big = max(deals["deals"], key=lambda d: d["threads"])
    others = [d["id"] for d in deals["deals"] if d["id"] != big["id"] and d["threads"] > 0]
    for o in owners:
        r = get(conn0, f"/api/v1/followups?user={o}", None)
        if r:
            sizes.append(r["total"])
    print(f"{a.label}: {len(owners)} salespeople (follow-ups listed: {sizes}); biggest deal "
          f"{big['id']} with {big['threads']} threads, {len(others)} others; {a.clients} clients, "
          f"{a.seconds:.0f} s")
    owner_cycle = itertools.cycle(owners)
    other_cycle = itertools.cycle(others or [big["id"]])
    cycle_lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
        n = 0
        while time.monotonic() < stop:
            with cycle_lock:
                owner, other = next(owner_cycle), next(other_cycle)
            get(conn, f"/api/v1/followups?user={owner}", kinds[0])
            if n % 4 == 0:
                get(conn, f"/api/v1/deals/{big['id']}/activity", kinds[2])
            else:
                get(conn, f"/api/v1/deals/{other}/activity", kinds[1])
            n += 1

    ts = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in kinds:
        v = sorted(lat[k])
        print(f"  {k:34s} n={len(v):6d}  p50 {pct(v, 50):7.1f} ms  p90 {pct(v, 90):7.1f} ms  "
              f"p99 {pct(v, 99):7.1f} ms  max {v[-1] if v else 0:7.1f} ms")
    if errors:
        print(f"  {len(errors)} errors, e.g. {errors[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
