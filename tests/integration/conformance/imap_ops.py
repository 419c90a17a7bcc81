#!/usr/bin/env python3
"""What a person or another mail client does to a mailbox, for the conformance suite, over plain
IMAP on loopback (Python's imaplib, so it is independent of crm-maild's own IMAP code):

  imap_ops.py PORT USER PASSWORD append N TAG   APPEND N messages back to back to INBOX
  imap_ops.py PORT USER PASSWORD seen UID...    STORE +FLAGS (\\Seen)
  imap_ops.py PORT USER PASSWORD expunge UID... STORE +FLAGS (\\Deleted), then EXPUNGE
  imap_ops.py PORT USER PASSWORD state          prints "UID SEEN" per message of INBOX (SEEN 0/1)
"""
import imaplib
import re
import socket
import sys

port, user, password, op, *args = sys.argv[1:]
c = imaplib.IMAP4("127.0.0.1", int(port))
# imaplib writes a literal apart from its command: without this, Nagle and delayed ACKs cost
# ~40 ms per APPEND.
c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.login(user, password)
c.select("INBOX")
if op == "append":
    n, tag = int(args[0]), args[1]
    for i in range(n):
        body = (f"From: Customer {i} <customer{i % 17}@example.org>\r\n"
                f"To: conf@example.test\r\nSubject: conformance {tag} {i}\r\n"
                f"Message-ID: <conf-{tag}-{i}@example.org>\r\n"
                f"Date: Mon, 02 Nov 2026 09:{i // 60 % 60:02d}:{i % 60:02d} +0000\r\n"
                f"Content-Type: text/plain; charset=utf-8\r\n\r\n"
                f"Hello, message {i} of batch {tag}.\r\n" + "More text for size.\r\n" * (i % 40))
        typ, _ = c.append("INBOX", None, None, body.encode())
        assert typ == "OK", typ
elif op in ("seen", "expunge"):
    uids = ",".join(args)
    flag = "(\\Seen)" if op == "seen" else "(\\Deleted)"
    typ, _ = c.uid("STORE", uids, "+FLAGS.SILENT", flag)
    assert typ == "OK", typ
    if op == "expunge":
        c.expunge()
elif op == "state":
    typ, data = c.uid("FETCH", "1:*", "(UID FLAGS)")
    for item in data:
        if not item:
            continue
        line = item if isinstance(item, bytes) else item[0]
        uid = re.search(rb"UID (\d+)", line)  # Cyrus sends FLAGS before UID, Dovecot after
        flags = re.search(rb"FLAGS \(([^)]*)\)", line)
        if uid and flags:
            print(int(uid.group(1)), 1 if b"\\Seen" in flags.group(1) else 0)
else:
    sys.exit(f"unknown op {op}")
c.logout()
