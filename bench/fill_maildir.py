#!/usr/bin/env python3
"""Put messages straight into a Maildir's cur/ the way Dovecot's own delivery names them.

    python3 bench/fill_maildir.py DEST_MAILDIR --from SOURCE_MAILDIR
    python3 bench/fill_maildir.py DEST_MAILDIR --count N      # N small generated messages

Much faster than one `doveadm save` per message; Dovecot assigns UIDs on its next scan.

The names matter. They look like Dovecot's deliveries, "<secs>.M<usecs>P<pid>.<host>,S=<size>,
W=<vsize>:2,S", because Dovecot keys the names in a hash table on the part before ":": the
benchmarks' earlier names ("1700000001.M1P1.bench", all alike but for a counter) collided so
badly there that every new IMAP session spent ~0.9 s in maildir_filename_base_cmp before its
first FETCH of a 20,000-message folder (measured with perf on the imap process), a cost no real
mailbox has. S= and W= (size, and size with CRLF line ends) spare Dovecot reading every file for
RFC822.SIZE, as for mail it delivered itself. Deterministic: the same input gives the same names.
"""

import argparse
import email.utils
import os
import re
import sys


def name(n, raw, flags="S"):
    secs = 1700000000 + 37 * n
    usecs = (n * 7919) % 1000000
    pid = 1000 + (n * 104729) % 30000
    vsize = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")
    return "%d.M%dP%d.bench,S=%d,W=%d:2,%s" % (secs, usecs, pid, len(raw), vsize, flags)


def poll_message(i):
    return ("From: p%d@example.com\r\nTo: alice@example.com\r\nSubject: poll test %d\r\n"
            "Message-ID: <poll-%d@example.com>\r\nDate: Mon, 02 Nov 2026 09:00:00 +0000\r\n\r\n"
            "body %d\r\n" % (i % 97, i, i, i)).encode()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="source", help="a Maildir to copy (cur/ and new/)")
    src.add_argument("--count", type=int, help="generate this many small messages")
    ap.add_argument("--unseen", action="store_true",
                    help="deliver the messages unread (no S flag): each is unread for the owner")
    ap.add_argument("--dates", action="store_true",
                    help="set each file's mtime (Dovecot's INTERNALDATE for a Maildir) from its "
                         "Date header, as a mailbox that received the mail then has it")
    args = ap.parse_args()
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(args.dest, sub), exist_ok=True)
    cur = os.path.join(args.dest, "cur")
    if args.source:
        subs = [os.path.join(args.source, sub) for sub in ("cur", "new")]
        files = sorted(os.path.join(d, f) for d in subs if os.path.isdir(d) for f in os.listdir(d))
        if not files:
            sys.exit("fill_maildir.py: no messages in %s/cur or %s/new" % (args.source, args.source))
        messages = ((i, open(p, "rb").read()) for i, p in enumerate(files, 1))
    else:
        messages = ((i, poll_message(i)) for i in range(args.count))
    for i, raw in messages:
        path = os.path.join(cur, name(i, raw, "" if args.unseen else "S"))
        with open(path, "wb") as f:
            f.write(raw)
        if args.dates:
            m = re.search(rb"^Date:[ \t]*(.+?)\r?$", re.split(rb"\r?\n\r?\n", raw, 1)[0], re.M | re.I)
            when = None
            if m:
                try:
                    when = email.utils.parsedate_to_datetime(m.group(1).decode("ascii", "replace"))
                except (TypeError, ValueError):
                    when = None
            if when:
                os.utime(path, (when.timestamp(), when.timestamp()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
