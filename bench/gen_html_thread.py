#!/usr/bin/env python3
"""One conversation of COUNT HTML mails of about SIZE bytes each (a Maildir), for the thread
view benchmark (bench/html-thread-bench.sh).

    gen_html_thread.py OUT_DIR [--count 20] [--size 1000000]

Each mail is what marketing and CRM tools send: nested layout tables with inline styles, a
style sheet, tracking pixels and remote images, links, a quoted earlier message. They form one
thread by References (a customer and alice@northwind-sales.example replying in turn).
Deterministic; standard library only.
"""
import argparse, email.utils, os, random


def block(r, i):
    colour = "#%06x" % r.randrange(0x1000000)
    return (
        f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        f'style="background:{colour};border-collapse:collapse"><tr><td style="padding:12px 24px;'
        f'font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;color:#333">'
        f'<h3 style="margin:0 0 8px">Section {i}: quarterly figures</h3>'
        f'<p>Line item {i} — units {r.randrange(1000)}, unit price € {r.randrange(10000)/100:.2f}, '
        f'discount {r.randrange(30)}%. <a href="https://track.example.com/c/{r.randrange(10**9)}" '
        f'style="color:#0366d6">View details</a></p>'
        f'<img src="https://img.example.com/p/{r.randrange(10**9)}.png" width="1" height="1" alt="">'
        f'<div style="display:flex"><span style="font-weight:bold">Note:</span> '
        f'<span>{"lorem ipsum dolor sit amet " * 4}</span></div></td></tr></table>\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--size", type=int, default=1_000_000)
    a = ap.parse_args()
    r = random.Random(1)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    ids = []
    for n in range(a.count):
        parts = ['<html><head><style>td{font-family:Arial} .x{color:red}</style></head><body>']
        i = 0
        while sum(map(len, parts)) < a.size:
            parts.append(block(r, i))
            i += 1
        parts.append("<blockquote>On an earlier day someone wrote: the previous offer</blockquote>"
                     "</body></html>")
        html = "".join(parts)
        mid = f"<bench-html-{n}@customer.example>"
        customer = n % 2 == 0
        headers = [
            f"From: {'Carol Buyer <carol@customer.example>' if customer else 'Alice <alice@northwind-sales.example>'}",
            f"To: {'alice@northwind-sales.example' if customer else 'carol@customer.example'}",
            f"Subject: {'Re: ' if n else ''}Quarterly offer",
            f"Date: {email.utils.formatdate(1_700_000_000 + n * 3600)}",
            f"Message-ID: {mid}",
            "MIME-Version: 1.0",
            'Content-Type: text/html; charset="utf-8"',
            "Content-Transfer-Encoding: 8bit",
        ]
        if ids:
            headers.append(f"In-Reply-To: {ids[-1]}")
            headers.append("References: " + " ".join(ids[-10:]))
        ids.append(mid)
        with open(os.path.join(a.out, "cur", f"{1_700_000_000 + n}.{n}.bench:2,S"), "wb") as f:
            f.write(("\r\n".join(headers) + "\r\n\r\n").encode() + html.encode())


if __name__ == "__main__":
    main()
