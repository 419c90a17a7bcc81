#!/usr/bin/env python3
"""Closed-loop load on the thread view's API; prints latency percentiles per request kind.

    api_load.py BASE_URL TOKEN_FILE SECONDS [--clients N] [--label TEXT]

Each client loops: GET /api/v1/deals (the deal list), then GET /api/v1/deals/{id}/threads and
GET /api/v1/threads/{id} for a random visible deal and one of its threads (the thread view).
Keep-alive connections, one per client. Standard library only. Non-2xx answers are counted as
errors and reported.
"""
import argparse, http.client, json, random, statistics, sys, threading, time, urllib.parse


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    k = min(len(sorted_ms) - 1, max(0, int(round(p / 100.0 * len(sorted_ms) + 0.5)) - 1))
    return sorted_ms[k]


def load_args():
    """The arguments every load script takes; returns them, the parsed base URL and the headers."""
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("token_file")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    token = open(a.token_file).read().strip()
    u = urllib.parse.urlparse(a.base)
    return a, u, {"Authorization": "Bearer " + token, "Host": u.netloc}


def main():
    a, u, headers = load_args()
    lat = {"deal list": [], "deal threads": [], "thread view": []}
    errors = []
    lock = threading.Lock()
    stop = time.monotonic() + a.seconds

    def get(conn, path, kind):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        with lock:
            lat[kind].append(ms)
            if r.status // 100 != 2:
                errors.append((path, r.status, body[:200]))
        return json.loads(body) if r.status == 200 else None

    def client(seed):
        rng = random.Random(seed)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while time.monotonic() < stop:
            deals = get(conn, "/api/v1/deals", "deal list")
            if not deals or not deals["deals"]:
                continue
            d = rng.choice(deals["deals"])
            th = get(conn, "/api/v1/deals/%d/threads" % d["id"], "deal threads")
            if th and th["threads"]:
                t = rng.choice(th["threads"])
                get(conn, "/api/v1/threads/%d" % t["id"], "thread view")

    ts = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("%s: %d clients, %.0f s" % (a.label or "load", a.clients, a.seconds))
    print("  %-13s %7s %8s %8s %8s %8s" % ("request", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"))
    worst = 0.0
    for kind, v in lat.items():
        v.sort()
        print("  %-13s %7d %8.1f %8.1f %8.1f %8.1f" % (kind, len(v), pct(v, 50), pct(v, 90), pct(v, 99), v[-1] if v else float("nan")))
        if kind != "deal threads" and v:
            worst = max(worst, pct(v, 99))
    print("  errors: %d%s" % (len(errors), (" e.g. %r" % (errors[0],)) if errors else ""))
    print("  p99 of deal list and thread view: %.1f ms (target < 50 ms): %s" % (worst, "met" if worst < 50 and not errors else "NOT met"))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
