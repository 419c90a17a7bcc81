#!/usr/bin/env python3
"""Generate a deterministic Maildir of realistic mail for import benchmarks.

    python3 bench/gen_maildir.py --out DIR [--count 20000] [--seed 1] [--csv-dir DIR]

Standard library only. The same --seed and --count give the same files (names, bytes, mtimes).

What the mail looks like
- sizes log-normal around a ~9 KB median; ~10% carry a base64 attachment (PDF- or PNG-like random
  bytes, 20-300 KB), so the mean is far above the median;
- charsets utf-8, iso-8859-1/2/15, windows-1251/1252, koi8-r, iso-2022-jp, shift_jis, big5, gb2312,
  with RFC 2047 subjects and display names and quoted-printable / base64 / 7bit bodies;
- text/plain alone or multipart/alternative with an HTML part, multipart/mixed with attachments;
- threads: chains and fan-outs with References / In-Reply-To, some replies carrying only the
  subject, Re: / RE: / AW: / SV: / Fwd: prefixes;
- senders from ~300 contacts at ~80 company domains plus free-mail addresses, CRM users on the
  team's own domain, and list mail with List-Id;
- Maildir flags: most of cur/ is seen (":2,S"), some replied/flagged, the newest in new/.

--csv-dir writes users.csv, companies.csv, contacts.csv and deals.csv consistent with the senders,
so contact and deal matching have something to match.
"""

import argparse
import base64
import csv
import math
import os
import quopri
import random
import sys
import time

OWN_DOMAIN = "northwind-sales.example"
FREE_MAIL = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "gmx.de", "web.de",
             "mail.ru", "yandex.ru", "free.fr", "qq.com", "163.com", "icloud.com", "seznam.cz",
             "wp.pl"]
LISTS = [("dev.lists.opensource.example", "dev@lists.opensource.example", "Open Source Dev"),
         ("announce.vendor.example", "announce@vendor.example", "Vendor Announcements"),
         ("users.tooling.example", "users@tooling.example", "Tooling Users")]

# Word pools per language; each language maps to the charsets that can encode it.
WORDS = {
    "en": ("meeting proposal contract invoice delivery schedule quote discount renewal support "
           "license order shipment review budget project update question thanks regards team "
           "next week please attached agreement signed pricing volume partner trial").split(),
    "de": ("Angebot Vertrag Rechnung Lieferung Besprechung Größe Straße Übersicht Gebühr Bestätigung "
           "nächste Woche bitte Anhang Grüße Änderung Prüfung Verlängerung Rabatt Zahlung").split(),
    "fr": ("réunion proposition contrat facture livraison été très créé reçu échéance remise "
           "renouvellement où déjà à bientôt cordialement équipe prochaine semaine").split(),
    "pl": ("spotkanie umowa faktura dostawa zamówienie proszę dziękuję łączę pozdrawiam cena "
           "rabat źródło żółty następny tydzień ważne").split(),
    "cs": ("schůzka smlouva faktura dodávka objednávka prosím děkuji cena sleva příští týden "
           "důležité zpráva").split(),
    "ru": ("встреча договор счёт поставка заказ скидка цена спасибо пожалуйста неделя проект "
           "обновление вопрос команда приложение согласие").split(),
    "ja": ("会議 契約 請求書 納品 見積 割引 更新 確認 来週 添付 よろしく お願い します 担当 予定 "
           "価格 数量").split(),
    "zh_tw": "會議 合約 發票 交貨 報價 折扣 續約 確認 下週 附件 謝謝 團隊 價格 數量 專案".split(),
    "zh_cn": "会议 合同 发票 交货 报价 折扣 续约 确认 下周 附件 谢谢 团队 价格 数量 项目".split(),
}
CHARSETS = [  # (charset, language, body transfer encoding, weight)
    ("utf-8", "en", "7bit", 30), ("utf-8", "de", "quoted-printable", 6),
    ("utf-8", "ja", "base64", 3), ("utf-8", "ru", "base64", 3),
    ("iso-8859-1", "fr", "quoted-printable", 8), ("iso-8859-1", "de", "quoted-printable", 4),
    ("iso-8859-2", "pl", "quoted-printable", 4), ("iso-8859-2", "cs", "quoted-printable", 2),
    ("iso-8859-15", "fr", "quoted-printable", 3), ("windows-1252", "de", "quoted-printable", 6),
    ("windows-1252", "en", "8bit", 4), ("windows-1251", "ru", "base64", 5),
    ("koi8-r", "ru", "8bit", 3), ("iso-2022-jp", "ja", "7bit", 4), ("shift_jis", "ja", "base64", 3),
    ("big5", "zh_tw", "base64", 3), ("gb2312", "zh_cn", "base64", 3),
]
GREETING = {"en": ["Hello,", "Hi all,", "Dear team,"], "de": ["Hallo,", "Sehr geehrte Damen und Herren,"],
            "fr": ["Bonjour,", "Chère équipe,"], "pl": ["Dzień dobry,"], "cs": ["Dobrý den,"],
            "ru": ["Здравствуйте,", "Добрый день,"], "ja": ["お世話になっております。"],
            "zh_tw": ["您好，"], "zh_cn": ["您好，"]}
REPLY_PREFIX = {"en": "Re: ", "de": "AW: ", "fr": "Re: ", "pl": "Odp: ", "cs": "Re: ",
                "ru": "Re: ", "ja": "Re: ", "zh_tw": "回覆: ", "zh_cn": "回复: "}
FIRST = {
    "en": "James Mary Robert Linda Michael Sarah David Emma Daniel Olivia".split(),
    "de": "Jürgen Müller Sören Käthe Günther Jörg Björn Hannelore Uwe Renée".split(),
    "fr": "Émile Hélène François Zoé Jérôme Cécile Noël Agnès René Gaël".split(),
    "pl": "Łukasz Paweł Małgorzata Zofia Wojciech Agnieszka Michał Bożena".split(),
    "cs": "Jiří Tomáš Věra Petr Růžena Lukáš Markéta Zdeněk".split(),
    "ru": "Алексей Мария Дмитрий Ольга Сергей Наталья Иван Татьяна".split(),
    "ja": "太郎 花子 健一 美咲 大輔 由美 翔太 さくら".split(),
    "zh_tw": "志明 淑芬 建宏 美玲 家豪 雅婷".split(),
    "zh_cn": "伟 芳 娜 敏 静 强 磊 洋".split(),
}
LAST = {
    "en": "Smith Johnson Brown Taylor Wilson Clark Lewis Walker Young King".split(),
    "de": "Schäfer Weiß Groß Köhler Fuchs Krüger Hoffmann Braun".split(),
    "fr": "Lefèvre Dupré Bérard Moreau Lévêque Girard Rousseau Faure".split(),
    "pl": "Kowalski Wiśniewska Wójcik Kamiński Lewandowska Zieliński".split(),
    "cs": "Novák Svobodová Dvořák Černý Procházka Kučerová".split(),
    "ru": "Иванов Смирнова Кузнецов Попова Соколов Лебедева".split(),
    "ja": "佐藤 鈴木 高橋 田中 渡辺 伊藤".split(),
    "zh_tw": "陳 林 黃 張 李 王".split(),
    "zh_cn": "王 李 张 刘 陈 杨".split(),
}
COMPANY_WORDS = ("Acme Globex Initech Umbrella Stark Wayne Wonka Tyrell Cyberdyne Soylent Hooli "
                 "Vandelay Kramerica Oceanic Aperture BlackMesa Gringotts Monarch Nakatomi Dunder "
                 "Pied Massive Sirius Prestige Vehement Zorg Omni Buy Ollivander Duff").split()
COMPANY_SUFFIX = ["GmbH", "Inc", "Ltd", "SA", "AG", "LLC", "s.r.o.", "Sp. z o.o.", "KK", "Co"]
COMPANY_LANG = ["en", "en", "en", "de", "de", "fr", "pl", "cs", "ru", "ja", "zh_tw", "zh_cn"]
STAGES = ["lead", "qualified", "proposal", "negotiation", "closed"]


def pick_weighted(rng, items, weights):
    return rng.choices(items, weights=weights, k=1)[0]


def encoded_words(text, charset):
    """RFC 2047 encoding of `text` in `charset`, one or more encoded words of at most 75
    characters, each ending on a character boundary (and, for ISO-2022-JP, in ASCII mode)."""
    if all(ord(c) < 128 for c in text):
        return text
    words, chunk = [], ""
    use_b = charset.lower() not in ("iso-8859-1", "iso-8859-2", "iso-8859-15", "windows-1252")
    for ch in text:
        trial = chunk + ch
        raw = trial.encode(charset)
        if use_b:
            enc = base64.b64encode(raw).decode("ascii")
        else:
            enc = quopri.encodestring(raw, header=True).decode("ascii").replace("=\n", "")
            enc = enc.replace("?", "=3F")
        if len(enc) + len(charset) + 7 > 75 and chunk:
            words.append(chunk)
            chunk = ch
        else:
            chunk = trial
    if chunk:
        words.append(chunk)
    out = []
    for w in words:
        raw = w.encode(charset)
        if use_b:
            out.append("=?%s?B?%s?=" % (charset, base64.b64encode(raw).decode("ascii")))
        else:
            enc = quopri.encodestring(raw, header=True).decode("ascii").replace("=\n", "")
            out.append("=?%s?Q?%s?=" % (charset, enc.replace("?", "=3F")))
    return "\r\n ".join(out)


def mailbox(name, addr, charset):
    if not name:
        return "<%s>" % addr
    if all(ord(c) < 128 for c in name):
        if any(c in name for c in ',.;:"()<>@[]'):
            return '"%s" <%s>' % (name.replace('"', ""), addr)
        return "%s <%s>" % (name, addr)
    return "%s <%s>" % (encoded_words(name, charset), addr)


def rfc2822_date(ts, tz_minutes):
    t = time.gmtime(ts + tz_minutes * 60)
    sign = "+" if tz_minutes >= 0 else "-"
    tz = abs(tz_minutes)
    return "%s, %02d %s %04d %02d:%02d:%02d %s%02d%02d" % (
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[t.tm_wday], t.tm_mday,
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
        [t.tm_mon - 1], t.tm_year, t.tm_hour, t.tm_min, t.tm_sec, sign, tz // 60, tz % 60)


def sentence(rng, lang):
    words = WORDS[lang]
    n = rng.randint(5, 16)
    sep = "" if lang in ("ja", "zh_tw", "zh_cn") else " "
    s = sep.join(rng.choice(words) for _ in range(n))
    end = "。" if lang in ("ja", "zh_tw", "zh_cn") else "."
    return s[0].upper() + s[1:] + end


def body_text(rng, lang, target_chars, greeting, signature, quote=None):
    paras, size = [greeting, ""], len(greeting)
    while size < target_chars:
        p = " ".join(sentence(rng, lang) for _ in range(rng.randint(2, 6)))
        # wrap at ~72 columns for western text, ~36 characters for CJK
        width = 36 if lang in ("ja", "zh_tw", "zh_cn") else 72
        lines, line = [], ""
        for word in p.split(" "):
            if len(line) + len(word) + 1 > width and line:
                lines.append(line)
                line = word
            else:
                line = (line + " " + word) if line else word
        lines.append(line)
        paras.extend(lines + [""])
        size += len(p)
    paras += ["-- ", signature]
    if quote:
        paras += [""] + ["> " + q for q in quote.splitlines()[:40]]
    return "\n".join(paras) + "\n"


def encode_body(text, charset, cte):
    raw = text.encode(charset)
    if cte == "base64":
        return base64.encodebytes(raw).decode("ascii").replace("\n", "\r\n")
    if cte == "quoted-printable":
        return quopri.encodestring(raw).decode("ascii").replace("\n", "\r\n")
    # 7bit (ISO-2022-JP, ASCII) and 8bit: raw bytes, CRLF line ends, decoded as latin-1 for
    # transport through str (written back as latin-1, so the bytes are unchanged)
    return raw.decode("latin-1").replace("\n", "\r\n")


def html_of(text):
    esc = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    paras = "".join("<p>%s</p>\n" % p.replace("\n", "<br>\n") for p in esc.split("\n\n") if p)
    return "<!DOCTYPE html>\n<html><head><meta charset=\"UTF-8\"></head>\n<body>\n%s</body></html>\n" % paras


def build_world(rng):
    """Companies, contacts and users: the senders of the mailbox and the CRM's records."""
    companies, used_domains = [], set()
    while len(companies) < 80:
        w1, w2 = rng.sample(COMPANY_WORDS, 2)
        lang = rng.choice(COMPANY_LANG)
        tld = {"de": "de", "fr": "fr", "pl": "pl", "cs": "cz", "ru": "ru", "ja": "jp",
               "zh_tw": "tw", "zh_cn": "cn"}.get(lang, rng.choice(["com", "io", "net", "co.uk"]))
        domain = ("%s-%s.%s" % (w1, w2, tld)).lower()
        if domain in used_domains:
            continue
        used_domains.add(domain)
        domains = [domain]
        if rng.random() < 0.15:  # a second domain (acquisition, regional site)
            domains.append("%s%d.example" % (w1.lower(), len(companies)))
        companies.append({"id": len(companies) + 1, "name": "%s %s %s" % (w1, w2, rng.choice(COMPANY_SUFFIX)),
                          "domains": domains, "lang": lang})
    contacts = []
    for i in range(300):
        co = companies[i % len(companies)] if i < 240 else rng.choice(companies)
        lang = co["lang"] if rng.random() < 0.8 else "en"
        first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
        name = (last + first) if lang in ("ja", "zh_tw", "zh_cn") else "%s %s" % (first, last)
        local = "c%03d.%s" % (i, rng.choice(["sales", "info", "p", "office", "a", "team"]))
        emails = ["%s@%s" % (local, rng.choice(co["domains"]))]
        if rng.random() < 0.15:  # also writes from a free-mail address
            emails.append("contact%03d@%s" % (i, rng.choice(FREE_MAIL)))
        contacts.append({"id": i + 1, "name": name, "emails": emails, "company": co, "lang": lang})
    users = []
    for i, (name, role) in enumerate([("Alice Anders", "admin"), ("Bob Brandt", "salesperson"),
                                      ("Chloé Carpentier", "salesperson"), ("Dmitri Dvorak", "salesperson"),
                                      ("Eva Eriksson", "salesperson"), ("Farid Fahmi", "salesperson"),
                                      ("Greta Gruber", "salesperson"), ("Hiro Hayashi", "salesperson"),
                                      ("Ines Ibáñez", "admin"), ("Jonas Jansen", "salesperson"),
                                      ("Kasia Kowal", "salesperson"), ("Lena Lindqvist", "admin")]):
        local = name.split()[0].lower().replace("é", "e").replace("á", "a")
        users.append({"id": i + 1, "name": name, "email": "%s@%s" % (local, OWN_DOMAIN), "role": role})
    deals = []
    for i in range(160):
        co = companies[i % len(companies)]
        members = [c for c in contacts if c["company"] is co]
        picked = rng.sample(members, min(len(members), rng.randint(1, 3))) if members else []
        stage = rng.choice(STAGES)
        status = rng.choice(["won", "lost"]) if stage == "closed" else "open"
        deals.append({"id": i + 1, "name": "%s - %s" % (co["name"], rng.choice(
            ["Renewal", "Expansion", "Pilot", "Enterprise licence", "Support plan", "Hardware"])),
                      "company": co, "contacts": picked, "owner": rng.choice(users),
                      "stage": stage, "status": status,
                      "value": rng.choice([5, 8, 12, 20, 35, 50, 75, 120, 250]) * 1000,
                      "currency": rng.choice(["EUR", "EUR", "USD", "GBP", "CHF"])})
    return companies, contacts, users, deals


def attachment(rng):
    kind = rng.random() < 0.6
    size = int(math.exp(rng.uniform(math.log(20_000), math.log(300_000))))
    if kind:  # PDF-like
        data = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(size) + b"\n%%EOF\n"
        return ("application/pdf", "%s.pdf" % rng.choice(["offer", "invoice", "contract", "specs",
                                                          "Angebot", "facture", "счёт"]), data)
    data = b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)
    return ("image/png", "%s.png" % rng.choice(["screenshot", "diagram", "logo", "photo"]), data)


def filename_param(name):
    if all(ord(c) < 128 for c in name):
        return 'filename="%s"' % name
    # RFC 2231 for the parameter value
    enc = "".join(chr(b) if (b < 128 and chr(b).isalnum()) or chr(b) in ".-_" else "%%%02X" % b
                  for b in name.encode("utf-8"))
    return "filename*=utf-8''%s" % enc


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="Maildir to create (cur/ new/ tmp/)")
    ap.add_argument("--count", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv-dir", help="also write users/companies/contacts/deals CSVs here")
    ap.add_argument("--until", type=int,
                    help="spread the messages over --span-days ending at this Unix time "
                         "(default: from 2023-01-01, one about every 15 minutes)")
    ap.add_argument("--span-days", type=int, default=730)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    companies, contacts, users, deals = build_world(rng)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)

    charset_weight = {(c[0], c[1]): c[3] for c in CHARSETS}
    lang_charsets = {}
    for cs, lang, cte, _ in CHARSETS:
        lang_charsets.setdefault(lang, []).append((cs, lang, cte))

    ts = 1672531200  # 2023-01-01T00:00:00Z
    mean_gap = 900   # seconds between messages
    if args.until:
        mean_gap = args.span_days * 86400 / max(args.count, 1)
        ts = args.until - args.span_days * 86400
    threads = []     # each: {"subject", "lang", "msgs": [(id, refs, text, contact)], "list"}
    total_bytes = 0
    started = time.time()
    for n in range(args.count):
        ts += int(rng.expovariate(1 / mean_gap)) + 1  # ~one message per 15 minutes by default
        is_list = rng.random() < 0.07
        reply_to = None
        if threads and rng.random() < 0.45:
            # recent threads are far more likely to get replies
            idx = len(threads) - 1 - min(int(rng.expovariate(1 / 30)), len(threads) - 1)
            reply_to = threads[idx]
            is_list = reply_to["list"] is not None
        contact = reply_to["contact"] if reply_to else rng.choice(contacts)
        lang = reply_to["lang"] if reply_to else (contact["lang"] if rng.random() < 0.7 else "en")
        if reply_to and reply_to["charset"][1] == lang and rng.random() < 0.8:
            cs, _, cte = reply_to["charset"]
        else:
            opts = lang_charsets.get(lang) or lang_charsets["en"]
            cs, lang, cte = pick_weighted(rng, opts, [charset_weight[(o[0], o[1])] for o in opts])
        user = rng.choice(users)
        outgoing = rng.random() < 0.3 and not is_list
        sender_name, sender_addr = (user["name"], user["email"]) if outgoing else \
            (contact["name"], rng.choice(contact["emails"]))
        rcpt = [(contact["name"], contact["emails"][0])] if outgoing else [(user["name"], user["email"])]
        cc = []
        if rng.random() < 0.25:
            other = rng.choice([c for c in contacts[:300] if c["company"] is contact["company"]] or contacts)
            cc.append((other["name"], other["emails"][0]))
        if rng.random() < 0.15:
            u2 = rng.choice(users)
            cc.append((u2["name"], u2["email"]))

        msg_id = "%d.%d.%s@%s" % (ts, n, "%08x" % rng.getrandbits(32),
                                  sender_addr.split("@")[1])
        headers = []
        if reply_to:
            parent = reply_to["msgs"][-1] if rng.random() < 0.6 else rng.choice(reply_to["msgs"])
            depth = len(parent[1]) + 1
            prefix = REPLY_PREFIX.get(lang, "Re: ")
            if rng.random() < 0.15:
                prefix = rng.choice(["RE: ", "SV: ", "Fwd: ", "Re[%d]: " % max(depth, 2)])
            subject = prefix + reply_to["subject"]
            refs = (parent[1] + [parent[0]])[-12:]
            if rng.random() < 0.06:  # a client that keeps only the subject
                refs_hdr = []
            else:
                refs_hdr = [("References", "\r\n ".join("<%s>" % r for r in refs)),
                            ("In-Reply-To", "<%s>" % parent[0])]
            quote = parent[2]
        else:
            subject = " ".join(rng.choice(WORDS[lang]) for _ in range(rng.randint(3, 8)))
            if is_list:
                subject = "[%s] %s" % (rng.choice(["dev", "ANNOUNCE", "users"]), subject)
            refs, refs_hdr, quote = [], [], None

        if is_list:
            lid, laddr, lname = (reply_to["list"] if reply_to else rng.choice(LISTS))
            rcpt = [(lname, laddr)]
        body_target = int(min(max(rng.lognormvariate(math.log(3800), 0.9), 200), 150_000))
        if lang in ("ja", "zh_tw", "zh_cn"):
            body_target //= 3  # three bytes per character in UTF-8, two in legacy CJK charsets
        text = body_text(rng, lang, body_target, rng.choice(GREETING[lang]), sender_name, quote)
        try:
            text.encode(cs)
        except UnicodeEncodeError:  # greeting or quoted text from another language
            text = text.encode(cs, "replace").decode(cs)
        if cte == "7bit" and cs == "utf-8" and not text.isascii():
            cte = "quoted-printable"  # 7bit must stay ASCII
        try:
            sender_name.encode(cs)
            name_cs = cs
        except UnicodeEncodeError:
            name_cs = "utf-8"

        headers += [
            ("Return-Path", "<%s>" % sender_addr),
            ("Received", "from mx%d.%s (mx%d.%s [192.0.2.%d])\r\n\tby mail.%s with ESMTPS id %08X\r\n\tfor <%s>; %s"
             % (n % 4, sender_addr.split("@")[1], n % 4, sender_addr.split("@")[1], n % 250 + 1,
                OWN_DOMAIN, rng.getrandbits(32), rcpt[0][1], rfc2822_date(ts + 3, 0))),
            ("Message-ID", "<%s>" % msg_id),
            ("Date", rfc2822_date(ts, rng.choice([0, 60, 120, -300, -480, 540, 180, 330]))),
            ("From", mailbox(sender_name, sender_addr, name_cs)),
            ("To", ",\r\n ".join(mailbox(nm, ad, "utf-8") for nm, ad in rcpt)),
        ]
        if cc:
            headers.append(("Cc", ",\r\n ".join(mailbox(nm, ad, "utf-8") for nm, ad in cc)))
        try:
            subject.encode(cs)
            subj_cs = cs
        except UnicodeEncodeError:
            subj_cs = "utf-8"
        headers.append(("Subject", encoded_words(subject, subj_cs)))
        headers += refs_hdr
        if is_list:
            headers += [("List-Id", "%s <%s>" % (lname, lid)),
                        ("List-Unsubscribe", "<mailto:%s-unsubscribe@%s>" % tuple(laddr.split("@"))),
                        ("Precedence", "list")]
        headers += [("MIME-Version", "1.0"),
                    ("X-Mailer", rng.choice(["Microsoft Outlook 16.0", "Apple Mail (2.3654)",
                                             "Mozilla Thunderbird 115.3", "Roundcube Webmail/1.6",
                                             "Evolution 3.44"]))]

        boundary = "=_b%d_%08x" % (n, rng.getrandbits(32))
        text_part = ("Content-Type: text/plain; charset=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n\r\n%s"
                     % (cs, cte, encode_body(text, cs, cte)))
        with_html = rng.random() < 0.45
        with_att = rng.random() < 0.10
        if with_html:
            html_cte = "base64" if cte == "base64" else "quoted-printable"
            html = html_of(text)
            html = html.replace('charset="UTF-8"', 'charset="%s"' % cs)
            html_part = ("Content-Type: text/html; charset=\"%s\"\r\nContent-Transfer-Encoding: %s\r\n\r\n%s"
                         % (cs, html_cte, encode_body(html, cs, html_cte)))
            alt_b = "alt" + boundary
            body_part = ("Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n--%s\r\n%s\r\n--%s\r\n%s\r\n--%s--\r\n"
                         % (alt_b, alt_b, text_part, alt_b, html_part, alt_b))
        else:
            body_part = text_part
        if with_att:
            ctype, fname, data = attachment(rng)
            att = ("Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; %s\r\n"
                   "Content-Transfer-Encoding: base64\r\n\r\n%s"
                   % (ctype, encoded_words(fname, "utf-8") if any(ord(c) > 127 for c in fname) else fname,
                      filename_param(fname), base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")))
            top = ("Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--%s\r\n%s\r\n--%s\r\n%s\r\n--%s--\r\n"
                   % (boundary, boundary, body_part, boundary, att, boundary))
        else:
            top = body_part
        head = "".join("%s: %s\r\n" % (k, v) for k, v in headers)
        # Headers are ASCII (RFC 2047); body parts are ASCII or latin-1-transported 8-bit bytes.
        msg = (head + top).encode("latin-1")

        # Maildir name, flags and mtime: the newest ~3% are unseen in new/, the rest in cur/.
        in_new = n >= args.count * 0.97
        flags = ""
        if not in_new:
            f = ["S"] if rng.random() < 0.85 else []
            if outgoing or rng.random() < 0.1:
                f.append("R")
            if rng.random() < 0.03:
                f.append("F")
            flags = "".join(sorted(f))
        base = "%d.M%dP%d.gen,S=%d" % (ts, n, 4242, len(msg))
        name = base if in_new else base + ":2," + flags
        path = os.path.join(args.out, "new" if in_new else "cur", name)
        with open(path, "wb") as f:
            f.write(msg)
        os.utime(path, (ts, ts))
        total_bytes += len(msg)

        entry = (msg_id, refs, text[:1500], contact)
        if reply_to:
            reply_to["msgs"].append(entry)
        else:
            threads.append({"subject": subject, "lang": lang, "msgs": [entry], "contact": contact,
                            "charset": (cs, lang, cte),
                            "list": next((l for l in LISTS if l[1] == rcpt[0][1]), None) if is_list else None})

    if args.csv_dir:
        os.makedirs(args.csv_dir, exist_ok=True)
        with open(os.path.join(args.csv_dir, "users.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "email", "role"])
            for u in users:
                w.writerow([u["id"], u["name"], u["email"], u["role"]])
        with open(os.path.join(args.csv_dir, "companies.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "domains"])
            for c in companies:
                w.writerow([c["id"], c["name"], ";".join(c["domains"])])
        with open(os.path.join(args.csv_dir, "contacts.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "emails", "company_id"])
            for c in contacts:
                w.writerow([c["id"], c["name"], ";".join(c["emails"]), c["company"]["id"]])
        with open(os.path.join(args.csv_dir, "deals.csv"), "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["id", "name", "company_id", "contact_ids", "owner_id", "stage", "status",
                        "value", "currency"])
            for d in deals:
                w.writerow([d["id"], d["name"], d["company"]["id"],
                            ";".join(str(c["id"]) for c in d["contacts"]), d["owner"]["id"],
                            d["stage"], d["status"], d["value"], d["currency"]])

    print("%d messages, %d threads, %.1f MB in %s (%.1f s)" % (
        args.count, len(threads), total_bytes / 1e6, args.out, time.time() - started),
        file=sys.stderr)


if __name__ == "__main__":
    main()
