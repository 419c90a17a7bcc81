#!/usr/bin/env python3
"""Which crm-maild worker each IMAP session in Dovecot's log belongs to, and whether one user ever
had sessions from two workers at the same time (workers_test.sh).

    workers_sessions.py DOVECOT_LOG SS_SAMPLES PIDS [--paused PID FROM_MS TO_MS]... [--json OUT]

DOVECOT_LOG  Dovecot's log with log_timestamp "%Y-%m-%d %H:%M:%S.%{usecs} " (UTC, the TZ of the
             test) and rport=%{rport} in login_log_format_elements: a login line carries the user,
             the client's port and the session id; the session's "Disconnected" line
             (imap(USER)<PID><SESSION>) ends it.
SS_SAMPLES   "MS LOCAL:PORT PEER:PORT users:((...pid=N...))" lines: `ss -tnp` snapshots of the
             connections to Dovecot's IMAP port, taken every ~0.2 s with the time in ms. A login
             whose port was seen in a snapshot taken during the session is attributed to that pid.
PIDS         "PID LABEL" lines: the worker processes.
--paused     A worker that was SIGSTOPped from FROM_MS to TO_MS (ms since the epoch; TO_MS
             includes the time it needs after SIGCONT to notice its lost leases): a stopped
             process cannot close its connections, so its sessions may overlap a new holder's in
             that window, and only there.

Prints a summary and each overlap not explained by a pause; exits 1 when there is one.
"""

import argparse
import calendar
import json
import re
import sys
import time

LOGIN = re.compile(r"^(\S+ \S+) imap-login: Info: Login: user=<([^>]*)>.*?rport=(\d+).*"
                   r"session=<([^>]*)>")
LOGOUT = re.compile(r"^(\S+ \S+) imap\(([^)]*)\)<\d+><([^>]*)>: Info: Disconnected")
SAMPLE = re.compile(r"^(\d+) \S+\s+\S+\s+\S+:(\d+)\s+\S+:\d+\s+users:.*?pid=(\d+)")


def ms(ts):
    day, clock = ts.split(" ")
    hms, _, frac = clock.partition(".")
    t = calendar.timegm(time.strptime(day + " " + hms, "%Y-%m-%d %H:%M:%S"))
    return t * 1000 + int((frac + "000000")[:6]) // 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("samples")
    ap.add_argument("pids")
    ap.add_argument("--paused", nargs=3, action="append", default=[], type=int,
                    metavar=("PID", "FROM_MS", "TO_MS"))
    ap.add_argument("--json")
    a = ap.parse_args()

    labels = {}
    with open(a.pids) as f:
        for line in f:
            if line.strip():
                pid, label = line.split(None, 1)
                labels[int(pid)] = label.strip()
    samples = {}  # port -> [(ms, pid)]
    with open(a.samples, errors="replace") as f:
        for line in f:
            m = SAMPLE.match(line)
            if m and int(m.group(3)) in labels:
                samples.setdefault(int(m.group(2)), []).append((int(m.group(1)), int(m.group(3))))
    sessions = {}  # session id -> dict
    with open(a.log, errors="replace") as f:
        for line in f:
            m = LOGIN.match(line)
            if m:
                sessions[m.group(4)] = {"user": m.group(2), "port": int(m.group(3)),
                                        "start": ms(m.group(1)), "end": None, "pid": None}
                continue
            m = LOGOUT.match(line)
            if m and m.group(3) in sessions:
                sessions[m.group(3)]["end"] = ms(m.group(1))
    far = 1 << 62
    for s in sessions.values():
        end = s["end"] if s["end"] is not None else far
        # The connection exists from shortly before the login until the disconnect.
        for t, pid in samples.get(s["port"], []):
            if s["start"] - 2000 <= t <= end:
                s["pid"] = pid
                break
    attributed = [s for s in sessions.values() if s["pid"] is not None]
    by_user = {}
    for s in attributed:
        by_user.setdefault(s["user"], []).append(s)
    overlaps, explained = [], 0
    for user, ss in by_user.items():
        ss.sort(key=lambda s: s["start"])
        for i, x in enumerate(ss):
            xe = x["end"] if x["end"] is not None else far
            for y in ss[i + 1:]:
                if y["start"] >= xe:
                    break
                if y["pid"] == x["pid"]:
                    continue
                ye = y["end"] if y["end"] is not None else far
                lo, hi = y["start"], min(xe, ye)
                if any(p in (x["pid"], y["pid"]) and f <= lo and hi <= t for p, f, t in a.paused):
                    explained += 1
                    continue
                overlaps.append({"user": user, "from_ms": lo, "to_ms": hi if hi < far else None,
                                 "first": [labels[x["pid"]], x["start"], x["end"]],
                                 "second": [labels[y["pid"]], y["start"], y["end"]]})
    summary = {"sessions": len(sessions), "attributed": len(attributed),
               "users": len(by_user), "overlaps_in_pauses": explained,
               "overlaps": len(overlaps)}
    print("sessions %(sessions)d, attributed to a worker %(attributed)d, users %(users)d, "
          "overlaps inside a SIGSTOP window %(overlaps_in_pauses)d, other overlaps %(overlaps)d"
          % summary)
    for o in overlaps[:20]:
        print("  overlap: %s" % json.dumps(o))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"summary": summary, "overlaps": overlaps}, f)
    return 1 if overlaps else 0


if __name__ == "__main__":
    sys.exit(main())
