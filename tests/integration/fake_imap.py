#!/usr/bin/env python3
"""A scripted misbehaving IMAP server for fault tests (loopback only).

Usage: fake_imap.py MODE PORT_FILE [--cert CERT --key KEY] [--starttls]

It logs in any user (AUTHENTICATE PLAIN or LOGIN), answers CAPABILITY, LIST, EXAMINE and UID
SEARCH like a one-message INBOX, and misbehaves according to MODE when the body is fetched:
  cut-literal  announce a literal, send half of it, close the connection
  slow         send the FETCH response at one byte per second
  huge-literal announce {18446744073709551615}
  long-line    send 1 MB without CRLF
  bye          answer the FETCH with "* BYE" and close
  garbage      send a garbage greeting
  preauth      greet with PREAUTH (use on a STARTTLS endpoint: must be refused)
  ok           behave (a control)
The chosen port is written to PORT_FILE. Runs until killed.
"""
import asyncio
import base64
import ssl
import sys

import imap_test_server

MODE = sys.argv[1]
PORT_FILE = sys.argv[2]
args = sys.argv[3:]
CERT = args[args.index("--cert") + 1] if "--cert" in args else None
KEY = args[args.index("--key") + 1] if "--key" in args else None
STARTTLS = "--starttls" in args

BODY = (b"From: Fault <fault@example.invalid>\r\nTo: alice@example.invalid\r\n"
        b"Subject: fault test\r\nMessage-ID: <fault-1@example.invalid>\r\n"
        b"Date: Mon, 02 Nov 2026 09:00:00 +0000\r\n\r\nA004 OK body line that looks like a tag\r\n")


async def handle(reader, writer):
    tls_ctx = None
    if STARTTLS and CERT:
        tls_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_ctx.load_cert_chain(CERT, KEY)

    def send(data):
        writer.write(data)

    if MODE == "garbage":
        send(b"\x00\x01garbage that is not IMAP\r\n")
        await writer.drain()
        await asyncio.sleep(2)
        writer.close()
        return
    if MODE == "preauth":
        send(b"* PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] ready, no login needed\r\n")
    else:
        caps = b"IMAP4rev1 AUTH=PLAIN IDLE" + (b" STARTTLS" if STARTTLS else b"")
        send(b"* OK [CAPABILITY " + caps + b"] fake server ready\r\n")
    await writer.drain()
    while True:
        command = await imap_test_server.read_command(reader)
        if command is None:
            return
        tag, cmd, rest = command
        if cmd == b"CAPABILITY":
            caps = b"IMAP4rev1 AUTH=PLAIN IDLE" + (b" STARTTLS" if STARTTLS else b"")
            send(b"* CAPABILITY " + caps + b"\r\n" + tag + b" OK done\r\n")
        elif cmd == b"STARTTLS":
            send(tag + b" OK begin TLS\r\n")
            await writer.drain()
            await writer.start_tls(tls_ctx)
        elif cmd == b"AUTHENTICATE":
            if b" " not in rest and rest.upper() == b"PLAIN":
                send(b"+ \r\n")
                await writer.drain()
                await reader.readline()
            send(tag + b" OK logged in\r\n")
        elif cmd == b"LOGIN":
            send(tag + b" OK logged in\r\n")
        elif cmd == b"LIST":
            send(b'* LIST (\\HasNoChildren) "/" INBOX\r\n' + tag + b" OK done\r\n")
        elif cmd in (b"EXAMINE", b"SELECT"):
            send(b"* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n"
                 + tag + b" OK [READ-ONLY] done\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"SEARCH"):
            send(b"* SEARCH 1\r\n" + tag + b" OK done\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"FETCH") and b"BODY" not in rest.upper():
            send(b"* 1 FETCH (UID 1 RFC822.SIZE " + str(len(BODY)).encode() + b" FLAGS ())\r\n"
                 + tag + b" OK done\r\n")
        elif cmd == b"UID" and rest.upper().startswith(b"FETCH"):
            head = b"* 1 FETCH (UID 1 FLAGS () BODY[] {" + str(len(BODY)).encode() + b"}\r\n"
            full = head + BODY + b")\r\n" + tag + b" OK done\r\n"
            if MODE == "cut-literal":
                send(head + BODY[: len(BODY) // 2])
                await writer.drain()
                writer.close()
                return
            if MODE == "slow":
                for i in range(len(full)):
                    send(full[i:i + 1])
                    await writer.drain()
                    await asyncio.sleep(1)
                continue
            if MODE == "huge-literal":
                send(b"* 1 FETCH (UID 1 BODY[] {18446744073709551615}\r\n")
                await writer.drain()
                await asyncio.sleep(30)
                return
            if MODE == "long-line":
                send(b"* 1 FETCH (UID 1 BODY[] " + b"x" * (1 << 20))
                await writer.drain()
                await asyncio.sleep(30)
                return
            if MODE == "bye":
                send(b"* BYE going away in the middle of a command\r\n")
                await writer.drain()
                writer.close()
                return
            send(full)
        elif cmd == b"IDLE":
            await imap_test_server.idle(reader, writer, tag)
        elif cmd == b"LOGOUT":
            await imap_test_server.logout(writer, tag)
            return
        else:
            send(tag + b" OK " + cmd + b" done\r\n")
        await writer.drain()


def tls_context():
    if CERT and not STARTTLS:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(CERT, KEY)
        return ctx
    return None


asyncio.run(imap_test_server.serve(handle, PORT_FILE, ssl=tls_context()))
