#!/usr/bin/env python3
"""A Gmail (or Microsoft 365) emulator for the integration tests (loopback only, plaintext):
IMAP and SMTP.

Usage: gmail_imap.py DIR [--password PW] [--flavour gmail|microsoft365] [--tokens FILE]
                         [--not-connected N]

Written from Google's public documentation of Gmail's IMAP:
  - "IMAP Extensions" (https://developers.google.com/gmail/imap/imap-extensions): the capability
    X-GM-EXT-1; the FETCH items X-GM-MSGID (a unique 64-bit id per message, the same in every
    folder the message shows in), X-GM-THRID (the 64-bit id of its conversation) and
    X-GM-LABELS (its labels, "\\\\Inbox" and "\\\\Sent" among them);
  - "Gmail IMAP folders" / RFC 6154: labels are folders; "[Gmail]/All Mail" (\\All) holds
    every message, "[Gmail]/Sent Mail" (\\Sent) what was sent, a user label such as "Deals/Acme"
    the messages labelled so; each folder numbers its messages with its own UIDs;
  - "Gmail SMTP" (https://support.google.com/mail/answer/7126229, "Sent messages"): mail sent
    through smtp.gmail.com is filed in Sent Mail by Gmail itself, so a client must not APPEND a
    copy (it would show twice).

IMAP (port in DIR/imap.port): CAPABILITY, LOGIN, AUTHENTICATE PLAIN, LIST (with RETURN
(SPECIAL-USE)), EXAMINE/SELECT, STATUS, UID SEARCH (ALL, UID sets, HEADER Message-ID),
UID FETCH (with the X-GM-* items; each message body sent is logged by its X-GM-MSGID in
DIR/bodies), APPEND (counted in DIR/appends), IDLE, LOGOUT.
SMTP (port in DIR/smtp.port): EHLO, AUTH PLAIN, MAIL, RCPT, DATA (the message is filed with the
label \\Sent, as Gmail does), QUIT.
--flavour microsoft365 plays Exchange Online instead, as Microsoft documents it ("Authenticate an
IMAP, POP or SMTP connection using OAuth", learn.microsoft.com/exchange/client-developer/
legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth): the capability
string of outlook.office365.com (AUTH=XOAUTH2, SASL-IR, no X-GM-EXT-1); SASL XOAUTH2 on IMAP and
SMTP ("user=...^Aauth=Bearer TOKEN^A^A"), the token checked against FILE ("<token> <user>" lines,
what tests/integration/dovecot/oauth2_introspect.py's token endpoints issue); folders with
localised names found only by their special-use attributes in a plain LIST (a German mailbox:
"Gesendete Elemente" \Sent, "Entw&APw-rfe" \Drafts); and, for the first N logins
(--not-connected), the transient "NO User is authenticated but not connected." Exchange Online
also files what its SMTP server sends in Sent Items.
Seed messages: every DIR/seed/*.eml at start; a file's first line may be
"X-Emu-Labels: \\Inbox Deals/Acme" and "X-Emu-Thrid: N" (then dropped from the message).
Each IMAP command line is logged to stdout (LOGIN/AUTHENTICATE arguments masked).
"""
import argparse
import asyncio
import base64
import glob
import os
import re

import imap_test_server

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--password")
ap.add_argument("--flavour", choices=["gmail", "microsoft365"], default="gmail")
ap.add_argument("--tokens")
ap.add_argument("--not-connected", type=int, default=0)
opt = ap.parse_args()
GMAIL = opt.flavour == "gmail"
logins = {"n": 0}

FOLDERS = [  # name, special-use attribute, the label that puts a message in it (None: all)
    ("INBOX", None, "\\Inbox"),
    ("[Gmail]/All Mail", "\\All", None),
    ("[Gmail]/Sent Mail", "\\Sent", "\\Sent"),
    ("Deals/Acme", None, "Deals/Acme"),
] if GMAIL else [
    ("INBOX", None, "\\Inbox"),
    ("Gesendete Elemente", "\\Sent", "\\Sent"),
    ("Entw&APw-rfe", "\\Drafts", "\\Draft"),
]
messages = []  # dicts: msgid, thrid, labels (set), body (bytes), uids {folder: uid}
next_uid = {f[0]: 1 for f in FOLDERS}
next_msgid = 1_500_000_000_000_000_000


def in_folder(m, folder):
    for name, _, label in FOLDERS:
        if name == folder:
            return label is None or label in m["labels"]
    return False


def add(body, labels, thrid=None):
    global next_msgid
    next_msgid += 1
    m = {"msgid": next_msgid, "thrid": thrid or next_msgid, "labels": set(labels),
         "body": body, "uids": {}}
    for name, _, _ in FOLDERS:
        if in_folder(m, name):
            m["uids"][name] = next_uid[name]
            next_uid[name] += 1
    messages.append(m)
    return m


for path in sorted(glob.glob(os.path.join(opt.dir, "seed", "*.eml"))):
    raw = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    labels, thrid = ["\\Inbox"], None
    while raw.startswith(b"X-Emu-"):
        line, _, raw = raw.partition(b"\r\n")
        key, _, value = line.decode().partition(": ")
        if key == "X-Emu-Labels":
            labels = value.split()
        elif key == "X-Emu-Thrid":
            thrid = int(value)
    add(raw, labels, thrid)

CAPS = b"IMAP4rev1 UNSELECT IDLE NAMESPACE ID CHILDREN X-GM-EXT-1 UIDPLUS LIST-EXTENDED " \
       b"SPECIAL-USE AUTH=PLAIN" if GMAIL else \
       b"IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT CHILDREN IDLE " \
       b"NAMESPACE LITERAL+"


def quoted(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unquote(b):
    b = b.strip()
    if b.startswith(b'"'):
        return re.sub(rb'\\(.)', rb'\1', b[1:-1]).decode()
    return b.decode()


def folder_view(folder):
    return [m for m in messages if folder in m["uids"]]


def password_ok(pw):
    return opt.password is None or pw == opt.password.encode()


def bearer_ok(ir):
    """SASL XOAUTH2's initial response: user=U^Aauth=Bearer T^A^A, T issued for U."""
    fields = dict(f.split("=", 1) for f in base64.b64decode(ir).decode().split("\x01") if "=" in f)
    token = fields.get("auth", "")[len("Bearer "):]
    try:
        with open(opt.tokens, encoding="utf-8") as f:
            return any(line.split()[:1] == [token] for line in f if token)
    except (OSError, TypeError):
        return False


def login_answer(tag, ok):
    if not ok:
        return tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n"
    logins["n"] += 1
    if logins["n"] <= opt.not_connected:
        return tag + b" NO User is authenticated but not connected.\r\n"
    return tag + b" OK user authenticated (Success)\r\n"


async def read_literal(reader, writer, rest):
    """The bytes of a {N} or {N+} literal that ends `rest`."""
    m = re.search(rb"\{(\d+)(\+?)\}$", rest)
    n = int(m.group(1))
    if not m.group(2):
        writer.write(b"+ go ahead\r\n")
        await writer.drain()
    data = await reader.readexactly(n)
    await reader.readline()
    return rest[:m.start()], data


async def imap(reader, writer):
    send = writer.write
    selected = None
    send(b"* OK Gimap ready for requests from 127.0.0.1\r\n")
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
            send(b"* CAPABILITY " + CAPS + b"\r\n" + tag + b" OK Thats all she wrote!\r\n")
        elif cmd == b"LOGIN":
            pw = rest.split(b" ", 1)[1] if b" " in rest else b""
            send(login_answer(tag, password_ok(unquote(pw).encode())))
        elif cmd == b"AUTHENTICATE":
            mech, _, ir = rest.partition(b" ")
            if mech.upper() not in (b"PLAIN", b"XOAUTH2") or (mech.upper() == b"XOAUTH2"
                                                                and GMAIL):
                send(tag + b" NO unsupported mechanism\r\n")
            else:
                if not ir:
                    send(b"+ \r\n")
                    await writer.drain()
                    ir = (await reader.readline()).strip()
                if mech.upper() == b"XOAUTH2":
                    send(login_answer(tag, bearer_ok(ir)))
                else:
                    send(login_answer(tag, password_ok(base64.b64decode(ir).split(b"\0")[-1])))
        elif cmd in (b"LIST", b"XLIST"):
            out = b""
            for name, special, _ in FOLDERS:
                attrs = "\\HasNoChildren" + (" " + special if special else "")
                out += ('* LIST (%s) "/" %s\r\n' % (attrs, quoted(name))).encode()
            send(out + tag + b" OK Success\r\n")
        elif cmd in (b"EXAMINE", b"SELECT"):
            selected = unquote(rest)
            view = folder_view(selected)
            if not any(f[0] == selected for f in FOLDERS):
                send(tag + b" NO [NONEXISTENT] Unknown Mailbox\r\n")
                selected = None
            else:
                send(b"* FLAGS (\\Answered \\Flagged \\Draft \\Deleted \\Seen)\r\n"
                     b"* OK [UIDVALIDITY %d] UIDs valid.\r\n* %d EXISTS\r\n* 0 RECENT\r\n"
                     b"* OK [UIDNEXT %d] Predicted next UID.\r\n" % (
                         3 + [f[0] for f in FOLDERS].index(selected), len(view),
                         next_uid[selected]) + tag + b" OK [READ-ONLY] " + cmd + b" (Success)\r\n")
        elif cmd == b"STATUS":
            name = unquote(rest.rsplit(b" (", 1)[0])
            send(("* STATUS %s (UIDNEXT %d MESSAGES %d)\r\n" % (
                quoted(name), next_uid.get(name, 1), len(folder_view(name)))).encode()
                 + tag + b" OK Success\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"SEARCH"):
            crit = rest[len(b"SEARCH"):].strip().decode()
            view = folder_view(selected) if selected else []
            top = view[-1]["uids"][selected] if view else 0
            h = re.match(r'(?i)HEADER Message-ID (.+)$', crit)
            if h:
                want = unquote(h.group(1).encode()).lower()
                found = [m for m in view if re.search(
                    rb"(?im)^Message-ID:\s*" + re.escape(want.encode()), m["body"])]
            else:
                u = re.search(r"(?:UID )?([0-9*:,]+)$", crit)
                found = [m for m in view if u is None or imap_test_server.in_set(
                    m["uids"][selected], u.group(1), top)]
            send(b"* SEARCH" + b"".join(b" %d" % m["uids"][selected] for m in found) + b"\r\n"
                 + tag + b" OK SEARCH completed (Success)\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"FETCH"):
            spec, _, items = rest[len(b"FETCH"):].strip().partition(b" ")
            view = folder_view(selected) if selected else []
            top = view[-1]["uids"][selected] if view else 0
            out = b""
            for seq, m in enumerate(view, 1):
                uid = m["uids"][selected]
                if not imap_test_server.in_set(uid, spec.decode(), top):
                    continue
                head = b"* %d FETCH (UID %d FLAGS () RFC822.SIZE %d" % (seq, uid, len(m["body"]))
                up = items.upper()
                if b"X-GM-MSGID" in up:
                    head += b" X-GM-MSGID %d" % m["msgid"]
                if b"X-GM-THRID" in up:
                    head += b" X-GM-THRID %d" % m["thrid"]
                if b"X-GM-LABELS" in up:
                    labels = " ".join(quoted(l) if not l.startswith("\\") else '"\\\\%s"' % l[1:]
                                      for l in sorted(m["labels"]))
                    head += b" X-GM-LABELS (" + labels.encode() + b")"
                if b"BODY" in up or b"RFC822" in up.replace(b"RFC822.SIZE", b""):
                    with open(os.path.join(opt.dir, "bodies"), "a") as f:
                        f.write("%d\n" % m["msgid"])
                    head += b' INTERNALDATE "02-Nov-2026 09:00:00 +0000" BODY[] {%d}\r\n' % len(
                        m["body"]) + m["body"]
                out += head + b")\r\n"
            send(out + tag + b" OK Success\r\n")
        elif cmd == b"APPEND":
            args, data = await read_literal(reader, writer, rest)
            with open(os.path.join(opt.dir, "appends"), "a") as f:
                f.write(unquote(args.split(b" (")[0]) + "\n")
            folder = unquote(args.split(b" (")[0])
            label = next((l for n, _, l in FOLDERS if n == folder), None)
            m = add(data, [label] if label else [])
            send(tag + b" OK [APPENDUID %d %d] (Success)\r\n" % (
                3 + [f[0] for f in FOLDERS].index(folder), m["uids"].get(folder, 0)))
        elif cmd == b"IDLE":
            await imap_test_server.idle(reader, writer, tag)
        elif cmd == b"LOGOUT":
            await imap_test_server.logout(writer, tag)
            return
        else:
            send(tag + b" OK " + cmd + b" (Success)\r\n")
        await writer.drain()


async def smtp(reader, writer):
    def say(line):
        writer.write(line.encode() + b"\r\n")

    say("220 smtp.gmail.com ESMTP emulated")
    await writer.drain()
    authed = False
    while True:
        line = await reader.readline()
        if not line:
            return
        verb = line.strip().split(b" ", 1)[0].upper()
        if verb in (b"EHLO", b"HELO"):
            say("250-smtp.gmail.com at your service" if GMAIL else
                "250-AM0PR01CA0000.outlook.office365.com Hello")
            say("250-AUTH PLAIN" if GMAIL else "250-AUTH LOGIN XOAUTH2")
            say("250-8BITMIME")
            say("250 SMTPUTF8")
        elif verb == b"AUTH":
            parts = line.strip().split(b" ")
            ir = parts[2] if len(parts) > 2 else None
            if ir is None:
                say("334 ")
                await writer.drain()
                ir = (await reader.readline()).strip()
            if parts[1].upper() == b"XOAUTH2":
                authed = not GMAIL and bearer_ok(ir)
            else:
                authed = password_ok(base64.b64decode(ir).split(b"\0")[-1])
            say("235 2.7.0 Accepted" if authed else
                "535-5.7.8 Username and Password not accepted.")
        elif verb in (b"MAIL", b"RCPT"):
            say("250 2.1.0 OK" if authed else "530-5.7.0 Authentication Required.")
        elif verb == b"DATA":
            say("354 Go ahead")
            await writer.drain()
            data = b""
            while True:
                chunk = await reader.readline()
                if chunk in (b".\r\n", b".\n", b""):
                    break
                data += chunk[1:] if chunk.startswith(b".") else chunk
            add(data, ["\\Sent"])  # Gmail and Exchange Online file what they send in Sent
            with open(os.path.join(opt.dir, "smtp-messages"), "a") as f:
                f.write("%d\n" % len(data))
            say("250 2.0.0 OK accepted")
        elif verb == b"QUIT":
            say("221 2.0.0 closing connection")
            await writer.drain()
            writer.close()
            return
        else:
            say("250 OK")
        await writer.drain()


async def main():
    async def start(handler, port_file):
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        with open(os.path.join(opt.dir, port_file), "w") as f:
            f.write(str(server.sockets[0].getsockname()[1]))
        return server

    imap_server = await start(imap, "imap.port")
    smtp_server = await start(smtp, "smtp.port")
    async with imap_server, smtp_server:
        await asyncio.gather(imap_server.serve_forever(), smtp_server.serve_forever())


asyncio.run(main())
