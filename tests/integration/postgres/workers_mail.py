#!/usr/bin/env python3
"""Mail for the multi-worker test (workers_test.sh): a sales team's INBOXes in the test Dovecot's
Maildirs, more mail later, and counts to compare the database with.

    workers_mail.py fill MAILROOT --users "u01 u02 ..." [--per-user 30] [--shared 40] [--seed 1]
        Each user's INBOX (MAILROOT/USER/cur) gets --per-user messages of its own; --shared more
        go to 2-4 users each, byte for byte the same (a customer writing to several salespeople);
        two pairs carry one Message-ID with different bodies (a list's copies with different
        footers), which are two messages.
    workers_mail.py batch MAILROOT USER --count N --tag TAG
        N new messages into USER's new/ (written in tmp/, then renamed: Dovecot never sees half a
        file), with Message-IDs <TAG-USER-i@customer.example>.
    workers_mail.py lmtp PORT USER --count N --tag TAG
        N messages delivered through Dovecot's LMTP (as Postfix would).
    workers_mail.py expect MAILROOT --users "..."
        JSON: {"distinct": distinct (Message-ID, body) pairs over every INBOX, what the database
        must hold as messages; "users": {USER: [Message-IDs of the INBOX, sorted]}}.
    workers_mail.py count MAILROOT USER MESSAGE-ID...
        For each Message-ID, how many messages in USER's INBOX carry it ("ID N" lines).

Files are named like Dovecot's own deliveries (see bench/fill_maildir.py: names that differ only
in a counter make Dovecot slow). Deterministic for a given seed. Ownership is the caller's job
(chown -R to the mail user).
"""

import argparse
import json
import os
import random
import re
import smtplib
import sys

DOMAINS = ["acme.example", "globex.example", "initech.example", "umbrella.example",
           "hooli.example", "stark.example", "wayne.example", "tyrell.example"]
WORDS = ("proposal contract invoice delivery schedule quote discount renewal support license "
         "order shipment review budget project update question thanks regards team next week "
         "please attached agreement signed pricing volume partner trial").split()

counter = [0]


def maildir_name(raw, tag):
    counter[0] += 1
    n = counter[0] + (sum(tag.encode()) * 100003) % 1000000
    vsize = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")
    return "%d.M%dP%d.%s,S=%d,W=%d:2," % (1700000000 + 37 * n, (n * 7919) % 1000000,
                                          1000 + (n * 104729) % 30000, tag, len(raw), vsize)


def message(rng, mid, to, cc=(), body_extra="", size=None):
    dom = rng.choice(DOMAINS)
    sender = "%s.%s@%s" % (rng.choice(["anna", "ben", "chen", "dora", "emil", "fatou"]),
                           rng.choice(["meyer", "okafor", "silva", "tanaka"]), dom)
    subject = "%s %s %d" % (rng.choice(WORDS).capitalize(), rng.choice(WORDS), rng.randrange(1000))
    words = size or rng.randrange(80, 700)
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    lines = [text[i:i + 72] for i in range(0, len(text), 72)]
    hdr = ["From: %s" % sender, "To: %s" % ", ".join("%s@team.example" % u for u in to)]
    if cc:
        hdr.append("Cc: %s" % ", ".join("%s@team.example" % u for u in cc))
    hdr += ["Subject: %s" % subject,
            "Date: Mon, %02d Nov 2026 %02d:%02d:00 +0000" % (rng.randrange(1, 28),
                                                             rng.randrange(24), rng.randrange(60)),
            "Message-ID: <%s>" % mid, "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8"]
    body = ["Hello,", ""] + lines + ["", body_extra or ("-- " + mid), ""]
    return ("\r\n".join(hdr) + "\r\n\r\n" + "\r\n".join(body)).encode()


def write(mailroot, user, raw, tag, sub="cur"):
    d = os.path.join(mailroot, user)
    for s in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(d, s), exist_ok=True)
    name = maildir_name(raw, tag)
    if sub == "new":
        name = name.rsplit(":", 1)[0]
    tmp = os.path.join(d, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(raw)
    os.rename(tmp, os.path.join(d, sub, name))


def cmd_fill(a):
    rng = random.Random(a.seed)
    users = a.users.split()
    for u in users:
        for i in range(a.per_user):
            write(a.mailroot, u, message(rng, "own-%s-%d@customer.example" % (u, i), [u]), "fill")
    for i in range(a.shared):
        team = rng.sample(users, rng.randrange(2, 5))
        raw = message(rng, "shared-%d@customer.example" % i, team[:1], team[1:])
        for u in team:
            write(a.mailroot, u, raw, "fill")
    # One Message-ID, two bodies: two messages (the store keys on Message-ID and content).
    for i in range(2):
        u1, u2 = rng.sample(users, 2)
        mid = "twin-%d@lists.example" % i
        write(a.mailroot, u1, message(rng, mid, [u1], body_extra="footer one"), "fill")
        write(a.mailroot, u2, message(rng, mid, [u2], body_extra="footer two"), "fill")


def cmd_batch(a):
    rng = random.Random("%s-%s" % (a.tag, a.user))
    for i in range(a.count):
        write(a.mailroot, a.user, message(rng, "%s-%s-%d@customer.example" % (a.tag, a.user, i),
                                          [a.user]), a.tag, sub="new")


def cmd_lmtp(a):
    rng = random.Random("%s-%s" % (a.tag, a.user))
    with smtplib.LMTP("127.0.0.1", a.port) as s:
        for i in range(a.count):
            raw = message(rng, "%s-%s-%d@customer.example" % (a.tag, a.user, i), [a.user])
            refused = s.sendmail("sender@customer.example", ["%s@team.example" % a.user], raw)
            if refused:
                sys.exit("LMTP refused: %r" % refused)


def inbox_files(mailroot, user):
    for sub in ("cur", "new"):
        d = os.path.join(mailroot, user, sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                yield os.path.join(d, f)


def split(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    if not body and b"\n\n" in raw:
        head, _, body = raw.partition(b"\n\n")
    m = re.search(rb"^Message-ID:\s*<([^>]+)>", head, re.M | re.I)
    return (m.group(1).decode() if m else None), body.replace(b"\r\n", b"\n")


def cmd_expect(a):
    distinct = set()
    users = {}
    for u in a.users.split():
        ids = []
        for p in inbox_files(a.mailroot, u):
            with open(p, "rb") as f:
                mid, body = split(f.read())
            ids.append(mid or "")
            distinct.add((mid, body))
        users[u] = sorted(ids)
    json.dump({"distinct": len(distinct), "users": users}, sys.stdout)
    print()


def cmd_count(a):
    seen = {m: 0 for m in a.ids}
    for p in inbox_files(a.mailroot, a.user):
        with open(p, "rb") as f:
            mid, _ = split(f.read())
        if mid in seen:
            seen[mid] += 1
    for m in a.ids:
        print(m, seen[m])


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fill")
    p.add_argument("mailroot")
    p.add_argument("--users", required=True)
    p.add_argument("--per-user", type=int, default=30)
    p.add_argument("--shared", type=int, default=40)
    p.add_argument("--seed", default="1")
    p.set_defaults(fn=cmd_fill)
    p = sub.add_parser("batch")
    p.add_argument("mailroot")
    p.add_argument("user")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tag", required=True)
    p.set_defaults(fn=cmd_batch)
    p = sub.add_parser("lmtp")
    p.add_argument("port", type=int)
    p.add_argument("user")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--tag", required=True)
    p.set_defaults(fn=cmd_lmtp)
    p = sub.add_parser("expect")
    p.add_argument("mailroot")
    p.add_argument("--users", required=True)
    p.set_defaults(fn=cmd_expect)
    p = sub.add_parser("count")
    p.add_argument("mailroot")
    p.add_argument("user")
    p.add_argument("ids", nargs="+")
    p.set_defaults(fn=cmd_count)
    a = ap.parse_args()
    return a.fn(a)


if __name__ == "__main__":
    sys.exit(main())
