#!/usr/bin/env python3
"""A small stateful IMAP server for interoperability tests (loopback only, plaintext).

Usage: scripted_imap.py PORT_FILE [options]

One INBOX with --messages messages (UIDVALIDITY 9, UIDs 1..n). It answers CAPABILITY, LOGIN,
AUTHENTICATE PLAIN, LIST, EXAMINE/SELECT, STATUS, UID SEARCH, UID FETCH, IDLE and LOGOUT, and can
behave like the servers crm-maild met in the field:
  --no-uidnext        EXAMINE without [UIDNEXT] (Courier); STATUS (UIDNEXT) still answers
  --no-status         STATUS answers NO (neither UIDNEXT source: the client must derive it)
  --add-on-examine N  a new message arrives just before the Nth EXAMINE of a connection is
                      answered (so that EXAMINE is the first to announce it; Cyrus under APPENDs)
  --auth KIND         plain: AUTH=PLAIN (default); login: no AUTH= at all, LOGIN command only
                      (Courier before STARTTLS); none: LOGINDISABLED and AUTH=CRAM-MD5 only
  --password PW       the password LOGIN/AUTHENTICATE PLAIN accept (default: any)
SIGUSR1 sets \\Seen on the first message without it and tells an IDLE client
("* N FETCH (FLAGS (\\Seen))").
Each command line is logged to stdout with LOGIN/AUTHENTICATE arguments masked.
The chosen port is written to PORT_FILE. Runs until killed.
"""
import argparse
import asyncio
import base64
import re
import signal

import imap_test_server

ap = argparse.ArgumentParser()
ap.add_argument("port_file")
ap.add_argument("--messages", type=int, default=2)
ap.add_argument("--no-uidnext", action="store_true")
ap.add_argument("--no-status", action="store_true")
ap.add_argument("--add-on-examine", type=int, default=0)
ap.add_argument("--auth", choices=["plain", "login", "none"], default="plain")
ap.add_argument("--password")
opt = ap.parse_args()

msgs = []  # [uid, flags set, body]
idlers = []  # writers of connections in IDLE


def add_message():
    uid = (msgs[-1][0] if msgs else 0) + 1
    body = (f"From: Script <script@example.invalid>\r\nTo: fault@example.test\r\n"
            f"Subject: scripted {uid}\r\nMessage-ID: <scripted-{uid}@example.invalid>\r\n"
            f"Date: Mon, 02 Nov 2026 09:00:{uid % 60:02d} +0000\r\n\r\nbody {uid}\r\n").encode()
    msgs.append([uid, set(), body])


for _ in range(opt.messages):
    add_message()


def caps():
    c = "IMAP4rev1 IDLE"
    if opt.auth == "plain":
        c += " AUTH=PLAIN"
    elif opt.auth == "none":
        c += " LOGINDISABLED AUTH=CRAM-MD5"
    return c.encode()


def uid_next():
    return (msgs[-1][0] if msgs else 0) + 1


def select_uids(spec):
    top = msgs[-1][0] if msgs else 0
    return [m for m in msgs if imap_test_server.in_set(m[0], spec, top)] or (
        [msgs[-1]] if msgs and "*" in spec else [])


def flags_text(m):
    return " ".join(sorted(m[1])).encode()


def on_usr1():
    unseen = [i for i, m in enumerate(msgs) if "\\Seen" not in m[1]]
    if not unseen:
        return
    m = msgs[unseen[0]]
    m[1].add("\\Seen")
    for w in list(idlers):
        w.write(b"* %d FETCH (FLAGS (%s))\r\n" % (unseen[0] + 1, flags_text(m)))


async def handle(reader, writer):
    examines = 0
    send = writer.write
    send(b"* OK [CAPABILITY " + caps() + b"] scripted server ready\r\n")
    await writer.drain()
    while True:
        command = await imap_test_server.read_command(reader)
        if command is None:
            return
        tag, cmd, rest = command
        masked = cmd in (b"LOGIN", b"AUTHENTICATE")
        print("C:", tag.decode(errors="replace"), cmd.decode(errors="replace"),
              "***" if masked else rest.decode(errors="replace"), flush=True)
        if cmd == b"CAPABILITY":
            send(b"* CAPABILITY " + caps() + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"LOGIN":
            if opt.auth == "none":
                send(tag + b" NO [PRIVACYREQUIRED] LOGIN is disabled\r\n")
            else:
                m = re.match(rb'("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$', rest)
                pw = m.group(2) if m else b""
                if pw.startswith(b'"'):
                    pw = re.sub(rb'\\(.)', rb'\1', pw[1:-1])
                if opt.password is None or pw == opt.password.encode():
                    send(tag + b" OK logged in\r\n")
                else:
                    send(tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        elif cmd == b"AUTHENTICATE":
            mech, _, ir = rest.partition(b" ")
            if mech.upper() != b"PLAIN" or opt.auth != "plain":
                send(tag + b" NO unsupported mechanism\r\n")
            else:
                if not ir:
                    send(b"+ \r\n")
                    await writer.drain()
                    ir = (await reader.readline()).strip()
                pw = base64.b64decode(ir).split(b"\0")[-1]
                if opt.password is None or pw == opt.password.encode():
                    send(tag + b" OK logged in\r\n")
                else:
                    send(tag + b" NO [AUTHENTICATIONFAILED] Authentication failed.\r\n")
        elif cmd == b"LIST":
            send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + tag + b" OK done\r\n")
        elif cmd in (b"EXAMINE", b"SELECT"):
            examines += 1
            if examines == opt.add_on_examine:
                add_message()
            out = b"* %d EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\n" % len(msgs)
            if not opt.no_uidnext:
                out += b"* OK [UIDNEXT %d] ok\r\n" % uid_next()
            send(out + tag + b" OK [READ-ONLY] done\r\n")
        elif cmd == b"STATUS" and opt.no_status:
            send(tag + b" NO STATUS not supported here\r\n")
        elif cmd == b"STATUS":
            send(b"* STATUS INBOX (UIDNEXT %d)\r\n" % uid_next() + tag + b" OK done\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"SEARCH"):
            crit = rest[len(b"SEARCH"):].strip().decode()
            m = re.match(r"(?:UID )?([0-9*:,]+)$", crit)
            found = select_uids(m.group(1)) if m else msgs
            send(b"* SEARCH" + b"".join(b" %d" % x[0] for x in found) + b"\r\n"
                 + tag + b" OK done\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"FETCH"):
            spec, _, items = rest[len(b"FETCH"):].strip().partition(b" ")
            out = b""
            for m in select_uids(spec.decode()):
                seq = msgs.index(m) + 1
                head = b"* %d FETCH (UID %d FLAGS (%s) RFC822.SIZE %d" % (
                    seq, m[0], flags_text(m), len(m[2]))
                if b"BODY" in items.upper():
                    head += b" INTERNALDATE \"02-Nov-2026 09:00:00 +0000\" BODY[] {%d}\r\n" % len(m[2])
                    head += m[2]
                out += head + b")\r\n"
            send(out + tag + b" OK done\r\n")
        elif cmd == b"IDLE":
            await imap_test_server.idle(reader, writer, tag, idlers)
        elif cmd == b"LOGOUT":
            await imap_test_server.logout(writer, tag)
            return
        else:
            send(tag + b" OK " + cmd + b" done\r\n")
        await writer.drain()


asyncio.run(imap_test_server.serve(
    handle, opt.port_file,
    on_start=lambda: asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, on_usr1)))
