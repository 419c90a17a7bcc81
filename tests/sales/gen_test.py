#!/usr/bin/env python3
"""Tests of gen_sales_mailbox.py: determinism, the files it writes, and the truth rules of its
docstring checked against the messages themselves (parsed with Python's email package).

Usage: gen_test.py [-v]        prints "N passed, N failed" and exits 1 on any failure.
"""
import base64
import csv
import email
import email.header
import email.policy
import email.utils
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen_sales_mailbox.py")
sys.path.insert(0, HERE)
import gen_sales_mailbox as G  # noqa: E402

COUNT = 3000
SEEDS = (1, 2, 3)
REQUIRED_TAGS = ["generic_subject", "subject_only_reply", "thread_index_only",
                 "references_trimmed", "rfc822_in_reply_to", "forward_new_conversation",
                 "subject_change", "multi_open_deals", "no_open_deal", "multi_company",
                 "gmail_no_company", "newsletter", "unknown_sender", "internal_only",
                 "colleague_thread", "late_reply"]
OUR = "@" + G.OUR_DOMAIN
REPLY_RE = re.compile(r"^(re|aw|sv|antw|odp)\s*:", re.I)
ID_RE = re.compile(r"<([^<>\s]+)>")

TMP = None
DIRS = {}
WORLD = {}


def generate(out, seed, count=COUNT):
    subprocess.run([sys.executable, GEN, "--out", out, "--seed", str(seed), "--count",
                    str(count)], check=True)


def tree_hash(root):
    h = hashlib.sha256()
    for d, subdirs, files in os.walk(root):
        subdirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(hashlib.sha256(fh.read()).digest())
    return h.hexdigest()


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def addrs(msg, *names):
    out = []
    for n in names:
        for v in msg.get_all(n, []):
            out += [a.lower() for _, a in email.utils.getaddresses([str(v)]) if a]
    return out


def decode(v):
    """A header value as text (RFC 2047 encoded words decoded, folding removed)."""
    if v is None:
        return None
    return str(email.header.make_header(email.header.decode_header(str(v)))).replace(
        "\n", "").replace("\r", "")


class World:
    """One generated mailbox: truth, CRM and every message parsed."""

    def __init__(self, d):
        self.dir = d
        self.truth = []
        with open(os.path.join(d, "truth.tsv"), encoding="utf-8") as f:
            for line in f:
                mid, label, deal, tags = line.rstrip("\n").split("\t")
                self.truth.append((mid, label, deal, [] if tags == "-" else tags.split(",")))
        self.by_id = {t[0]: t for t in self.truth}
        self.conv = defaultdict(list)
        for t in self.truth:
            self.conv[t[1]].append(t[0])
        crm = os.path.join(d, "crm")
        self.users = read_csv(os.path.join(crm, "users.csv"))
        self.companies = read_csv(os.path.join(crm, "companies.csv"))
        self.contacts = read_csv(os.path.join(crm, "contacts.csv"))
        self.deals = read_csv(os.path.join(crm, "deals.csv"))
        self.msgs = {}
        self.files = []
        for sub in ("cur", "new"):
            base = os.path.join(d, "Maildir", sub)
            for f in sorted(os.listdir(base)):
                p = os.path.join(base, f)
                with open(p, "rb") as fh:
                    raw = fh.read()
                m = email.message_from_bytes(raw, policy=email.policy.compat32)
                mid = ID_RE.search(str(m["Message-ID"])).group(1)
                info = {"path": p, "raw": raw, "msg": m, "sub": sub, "name": f,
                        "date": email.utils.parsedate_to_datetime(str(m["Date"])).timestamp(),
                        "subject": decode(m["Subject"]),
                        "refs": ID_RE.findall(str(m["References"] or "")),
                        "irt": m["In-Reply-To"], "ti": m["Thread-Index"],
                        "from": addrs(m, "From"), "rcpt": addrs(m, "To", "Cc"),
                        "mid_count": len(m.get_all("Message-ID", []))}
                self.files.append((f, mid))
                self.msgs.setdefault(mid, []).append(info)
        # conversation messages in date order
        self.conv_sorted = {k: sorted(v, key=lambda i: self.msgs[i][0]["date"])
                            for k, v in self.conv.items()}
        self.deal_by_id = {d["id"]: d for d in self.deals}
        self.company_by_id = {c["id"]: c for c in self.companies}
        self.contact_by_email = {}
        for c in self.contacts:
            for e in c["emails"].split():
                self.contact_by_email[e.lower()] = c
        self.company_by_domain = {}
        for c in self.companies:
            for dom in c["domains"].split():
                self.company_by_domain[dom.lower()] = c

    def m(self, mid):
        return self.msgs[mid][0]

    def tagged(self, tag):
        return [t for t in self.truth if tag in t[3]]

    def earlier(self, mid):
        label = self.by_id[mid][1]
        d = self.m(mid)["date"]
        return [x for x in self.conv_sorted[label] if x != mid and self.m(x)["date"] < d]

    def external(self, mid):
        i = self.m(mid)
        return [a for a in i["from"] + i["rcpt"] if not a.endswith(OUR)]

    def open_deals_of(self, addr):
        """Open deals the CRM relates to an address: through the contact, else the domain."""
        out = set()
        c = self.contact_by_email.get(addr)
        comp = c["company_id"] if c else None
        if comp is None:
            co = self.company_by_domain.get(addr.split("@")[1])
            comp = co["id"] if co else None
        for d in self.deals:
            if d["status"] != "open":
                continue
            if c and c["id"] in d["contact_ids"].split():
                out.add(d["id"])
            elif comp and d["company_id"] == comp:
                out.add(d["id"])
        return out


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="gen_test.")
    for s in SEEDS:
        DIRS[s] = os.path.join(TMP, f"seed{s}")
        generate(DIRS[s], s)
    DIRS["1b"] = os.path.join(TMP, "seed1b")
    generate(DIRS["1b"], 1)
    for s in SEEDS:
        WORLD[s] = World(DIRS[s])


def tearDownModule():
    if TMP:
        shutil.rmtree(TMP, ignore_errors=True)


class Determinism(unittest.TestCase):
    def test_same_seed_identical(self):
        self.assertEqual(tree_hash(DIRS[1]), tree_hash(DIRS["1b"]))

    def test_other_seed_differs(self):
        self.assertNotEqual(tree_hash(DIRS[1]), tree_hash(DIRS[2]))

    def test_count_changes_output_size(self):
        d = os.path.join(TMP, "small")
        generate(d, 1, 120)
        w = World(d)
        self.assertEqual(len(w.truth), 120)
        self.assertEqual(len(w.files), 120)


class Files(unittest.TestCase):
    def test_layout(self):
        for s in SEEDS:
            d = DIRS[s]
            for sub in ("cur", "new", "tmp"):
                self.assertTrue(os.path.isdir(os.path.join(d, "Maildir", sub)))
            with open(os.path.join(d, "owner_id")) as f:
                self.assertEqual(f.read().strip(), "1")

    def test_maildir_names(self):
        for s in SEEDS:
            w = WORLD[s]
            names = [f for f, _ in w.files]
            self.assertEqual(len(names), len(set(n.split(":")[0] for n in names)))
            for infos in w.msgs.values():
                for i in infos:
                    if i["sub"] == "cur":
                        self.assertRegex(i["name"], r"^\d+\.M\d+P1\.gen:2,S$")
                    else:
                        self.assertRegex(i["name"], r"^\d+\.M\d+P1\.gen$")
            self.assertGreater(sum(1 for i in w.msgs.values() if i[0]["sub"] == "new"), 0)

    def test_every_truth_message_exists_once(self):
        for s in SEEDS:
            w = WORLD[s]
            self.assertEqual(len(w.truth), COUNT)
            self.assertEqual(len(w.by_id), COUNT, "duplicate Message-ID in truth")
            self.assertEqual(len(w.files), COUNT)
            for mid, *_ in w.truth:
                self.assertIn(mid, w.msgs, mid)
                self.assertEqual(len(w.msgs[mid]), 1, mid)
                self.assertEqual(w.m(mid)["mid_count"], 1)
            self.assertEqual(set(w.msgs), set(w.by_id))

    def test_truth_columns(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.truth:
                self.assertRegex(label, r"^c\d+$")
                self.assertTrue(deal == "-" or deal.isdigit())
                self.assertFalse(mid.startswith("<") or mid.endswith(">"))


class Crm(unittest.TestCase):
    def test_csv_headers_and_ids(self):
        w = WORLD[1]
        crm = os.path.join(w.dir, "crm")
        heads = {"users.csv": "id,name,email,role", "companies.csv": "id,name,domains",
                 "contacts.csv": "id,name,emails,company_id",
                 "deals.csv": "id,name,company_id,contact_ids,owner_id,stage,status,value,currency"}
        for f, h in heads.items():
            with open(os.path.join(crm, f), encoding="utf-8") as fh:
                self.assertEqual(fh.readline().strip(), h)
        for rows in (w.users, w.companies, w.contacts, w.deals):
            ids = [r["id"] for r in rows]
            self.assertEqual(len(ids), len(set(ids)))
            self.assertTrue(all(i.isdigit() for i in ids))

    def test_references_exist(self):
        for s in SEEDS:
            w = WORLD[s]
            users = {u["id"] for u in w.users}
            comps = {c["id"] for c in w.companies}
            conts = {c["id"] for c in w.contacts}
            for c in w.contacts:
                self.assertTrue(c["company_id"] == "" or c["company_id"] in comps)
            for d in w.deals:
                self.assertTrue(d["company_id"] == "" or d["company_id"] in comps)
                self.assertIn(d["owner_id"], users)
                self.assertIn(d["status"], ("open", "won", "lost"))
                self.assertRegex(d["currency"], r"^[A-Z]{3}$")
                float(d["value"])
                cids = d["contact_ids"].split()
                self.assertTrue(cids or d["company_id"])
                for cid in cids:
                    self.assertIn(cid, conts)
                    if d["company_id"]:
                        con = next(c for c in w.contacts if c["id"] == cid)
                        self.assertEqual(con["company_id"], d["company_id"])

    def test_users_and_domains(self):
        for s in SEEDS:
            w = WORLD[s]
            self.assertEqual(len(w.users), 8)
            owner = next(u for u in w.users if u["id"] == "1")
            self.assertEqual(owner["role"], "salesperson")
            roles = Counter(u["role"] for u in w.users)
            self.assertGreater(roles["admin"], 0)
            for u in w.users:
                self.assertTrue(u["email"].endswith(OUR))
                self.assertNotEqual(u["email"], G.TEAM_ADDR)
            doms = [d for c in w.companies for d in c["domains"].split()]
            self.assertEqual(len(doms), len(set(doms)))
            for d in doms:
                self.assertTrue(d.endswith(".example"), d)
                self.assertNotIn(d, G.ALL_FREEMAIL)
                self.assertNotEqual(d, G.OUR_DOMAIN)
            self.assertGreaterEqual(len(w.companies), 40)
            self.assertTrue(any(len(c["domains"].split()) > 1 for c in w.companies))
            emails = [e for c in w.contacts for e in c["emails"].split()]
            self.assertEqual(len(emails), len(set(emails)))
            self.assertFalse(any(e.endswith(OUR) for e in emails))
            # free-mail contacts without a company, with deals through contact_ids
            free = [c for c in w.contacts if c["company_id"] == ""]
            self.assertGreater(len(free), 5)
            for c in free:
                self.assertIn(c["emails"].split()[0].split("@")[1], G.ALL_FREEMAIL)
            langs = "".join(c["name"] for c in w.companies)
            self.assertTrue(any(ord(ch) > 127 for ch in langs))

    def test_deal_shapes(self):
        for s in SEEDS:
            w = WORLD[s]
            per = Counter(d["company_id"] for d in w.deals if d["status"] == "open" and
                          d["company_id"])
            self.assertTrue(any(v >= 2 for v in per.values()), "no company with several deals")
            self.assertGreater(sum(1 for v in per.values() if v == 1), 20)
            closed_only = {d["company_id"] for d in w.deals if d["company_id"]} - set(per)
            self.assertTrue(closed_only, "no company with only won/lost deals")
            owners = Counter(d["owner_id"] for d in w.deals if d["status"] == "open")
            self.assertEqual(owners.most_common(1)[0][0], "1")
            self.assertGreater(len(owners), 1)
            # several open deals of one customer: same contacts, same owner
            groups = defaultdict(list)
            for d in w.deals:
                if d["status"] == "open":
                    groups[d["company_id"] or d["contact_ids"]].append(d)
            for ds in groups.values():
                self.assertEqual(len({d["owner_id"] for d in ds}), 1)
                self.assertEqual(len({d["contact_ids"] for d in ds}), 1)
            # names of one customer's open deals never contain one another
            by = defaultdict(list)
            for d in w.deals:
                if d["status"] == "open":
                    by[d["company_id"] or d["contact_ids"]].append(d["name"])
            for names in by.values():
                for a in names:
                    for b in names:
                        if a is not b:
                            self.assertNotIn(a, b)


class Truth(unittest.TestCase):
    def test_all_trap_tags_occur(self):
        for s in SEEDS:
            tags = Counter(t for x in WORLD[s].truth for t in x[3])
            for t in REQUIRED_TAGS:
                self.assertGreater(tags[t], 0, f"seed {s}: no {t}")

    def test_deals_open_and_known(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.truth:
                if deal != "-":
                    self.assertIn(deal, w.deal_by_id)
                    self.assertEqual(w.deal_by_id[deal]["status"], "open")

    def test_conversation_has_one_deal(self):
        for s in SEEDS:
            w = WORLD[s]
            for label, mids in w.conv.items():
                self.assertEqual(len({w.by_id[m][2] for m in mids}), 1, label)

    def test_dash_categories(self):
        for s in SEEDS:
            w = WORLD[s]
            for tag in ("newsletter", "unknown_sender", "internal_only", "no_open_deal"):
                rows = w.tagged(tag)
                self.assertTrue(rows)
                for mid, label, deal, tags in rows:
                    self.assertEqual(deal, "-", f"{tag} {mid}")

    def test_newsletters(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("newsletter"):
                self.assertEqual(len(w.conv[label]), 1)
                m = w.m(mid)["msg"]
                self.assertTrue(m["List-Id"] or m["List-Unsubscribe"] or m["Precedence"] or
                                m["Auto-Submitted"], mid)
                self.assertFalse(w.m(mid)["from"][0].endswith(OUR))

    def test_internal_only(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("internal_only"):
                i = w.m(mid)
                for a in i["from"] + i["rcpt"]:
                    self.assertTrue(a.endswith(OUR), f"{mid}: {a}")

    def test_unknown_senders_not_in_crm(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("unknown_sender"):
                for a in w.external(mid):
                    self.assertNotIn(a, w.contact_by_email)
                    self.assertNotIn(a.split("@")[1], w.company_by_domain)
            for mid, label, deal, tags in w.tagged("unknown_contact"):
                first = w.m(w.conv_sorted[label][0])
                ext = [a for a in first["from"] + first["rcpt"] if not a.endswith(OUR)]
                self.assertTrue(any(a not in w.contact_by_email and a.split("@")[1] in
                                    w.company_by_domain for a in ext), mid)

    def test_owner_in_every_message(self):
        for s in SEEDS:
            w = WORLD[s]
            owner = next(u["email"] for u in w.users if u["id"] == "1")
            for mid, label, deal, tags in w.truth:
                i = w.m(mid)
                everyone = i["from"] + i["rcpt"]
                self.assertTrue(owner in everyone or G.TEAM_ADDR in everyone, mid)

    def test_deal_is_identifiable(self):
        """The CRM relates a participant of the conversation to its deal; a customer with
        several open deals is told apart by the subject, except in deal_unnamed ones."""
        for s in SEEDS:
            w = WORLD[s]
            deal_msgs = unnamed = 0
            for label, mids in w.conv_sorted.items():
                deal = w.by_id[mids[0]][2]
                tags = w.by_id[mids[0]][3]
                if deal == "-":
                    continue
                deal_msgs += len(mids)
                ext = {a for m in mids for a in w.external(m)}
                related = set()
                for a in ext:
                    related |= w.open_deals_of(a)
                self.assertIn(deal, related, f"{label}: deal {deal} not reachable from {ext}")
                first_subject = w.m(mids[0])["subject"]
                name = w.deal_by_id[deal]["name"]
                if "multi_open_deals" in tags:
                    if "deal_unnamed" in tags:
                        unnamed += len(mids)
                        self.assertNotIn(name, first_subject)
                    else:
                        self.assertIn(name, first_subject, label)
                elif "multi_company" not in tags and "forward_new_conversation" not in tags:
                    self.assertEqual(len(related), 1, f"{label}: {related}")
            self.assertLess(unnamed / deal_msgs, 0.05)
            self.assertGreater(unnamed, 0)

    def test_no_open_deal_has_none(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("no_open_deal"):
                for a in w.external(mid):
                    self.assertEqual(w.open_deals_of(a), set(), f"{mid} {a}")

    def test_multi_company(self):
        for s in SEEDS:
            w = WORLD[s]
            for label in {t[1] for t in w.tagged("multi_company")}:
                mids = w.conv_sorted[label]
                comps = set()
                for m in mids:
                    for a in w.external(m):
                        co = w.company_by_domain.get(a.split("@")[1])
                        if co:
                            comps.add(co["id"])
                self.assertGreaterEqual(len(comps), 2, label)
                deal = w.by_id[mids[0]][2]
                self.assertIn(w.deal_by_id[deal]["company_id"], comps)
                others = comps - {w.deal_by_id[deal]["company_id"]}
                self.assertTrue(any(d["company_id"] in others and d["status"] == "open"
                                    for d in w.deals), label)

    def test_gmail_no_company(self):
        for s in SEEDS:
            w = WORLD[s]
            rows = w.tagged("gmail_no_company")
            self.assertTrue(any(r[2] != "-" for r in rows))
            for mid, label, deal, tags in rows:
                ext = w.external(mid)
                free = [a for a in ext if a in w.contact_by_email and
                        w.contact_by_email[a]["company_id"] == ""]
                self.assertTrue(free, mid)
                if deal != "-":
                    ids = {w.contact_by_email[a]["id"] for a in free}
                    self.assertTrue(ids & set(w.deal_by_id[deal]["contact_ids"].split()))
                    self.assertEqual(w.deal_by_id[deal]["company_id"], "")

    def test_colleague_thread(self):
        for s in SEEDS:
            w = WORLD[s]
            owner = next(u["email"] for u in w.users if u["id"] == "1")
            for label in {t[1] for t in w.tagged("colleague_thread")}:
                mids = w.conv_sorted[label]
                first = w.m(mids[0])
                talk = first["from"] + addrs(first["msg"], "To")
                self.assertTrue(any(a.endswith(OUR) and a != owner for a in talk), label)
                self.assertIn(owner, first["rcpt"])
                self.assertNotIn(owner, first["from"])

    def test_proportions(self):
        for s in SEEDS:
            w = WORLD[s]
            n = len(w.truth)
            deal = sum(1 for t in w.truth if t[2] != "-") / n
            self.assertTrue(0.68 <= deal <= 0.78, deal)
            tags = Counter(t for x in w.truth for t in x[3])
            replies = n - len(w.conv)
            so = tags["subject_only_reply"] / replies
            self.assertTrue(0.04 <= so <= 0.09, so)
            ti = tags["thread_index_only"] / replies
            self.assertTrue(0.012 <= ti <= 0.05, ti)
            self.assertLess(tags["late_reply"] / n, 0.005)
            att = sum(1 for v in w.msgs.values() if v[0]["msg"].get_content_type() ==
                      "multipart/mixed") / n
            self.assertTrue(0.015 <= att <= 0.06, att)
            sizes = [len(v[0]["raw"]) for v in w.msgs.values()]
            self.assertLess(sum(sizes) / n, 6000)
            self.assertLess(max(sizes), 64000)
            lens = Counter(len(v) for v in w.conv.values())
            self.assertLessEqual(max(lens), 12)
            self.assertGreaterEqual(max(lens), 9)
            self.assertGreater(lens[1], 0)


class Headers(unittest.TestCase):
    def test_headers_parse_and_ascii(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, infos in w.msgs.items():
                i = infos[0]
                head = i["raw"].split(b"\n\n", 1)[0]
                self.assertTrue(head.isascii(), mid)
                m = i["msg"]
                for h in ("From", "Date", "Message-ID", "Subject", "MIME-Version"):
                    self.assertIsNotNone(m[h], f"{mid} {h}")
                self.assertEqual(m.defects, [], mid)
                self.assertTrue(i["from"])
                self.assertEqual(email.utils.parsedate_to_datetime(str(m["Date"])).year, 2026)

    def test_bodies_decode(self):
        charsets = Counter()
        for s in SEEDS:
            w = WORLD[s]
            for mid, infos in w.msgs.items():
                m = infos[0]["msg"]
                for part in m.walk():
                    if part.get_content_maintype() == "text":
                        cs = part.get_content_charset()
                        self.assertIsNotNone(cs, mid)
                        charsets[cs] += 1
                        txt = part.get_payload(decode=True).decode(cs)
                        self.assertNotIn("\ufffd", txt, mid)
                    elif part.get_content_type() == "application/pdf":
                        data = part.get_payload(decode=True)
                        self.assertTrue(data.startswith(b"%PDF-"), mid)
                        self.assertTrue(part.get_filename())
        self.assertGreater(charsets["utf-8"], 1000)
        self.assertTrue(any(c.startswith("iso-8859") for c in charsets), charsets)

    def test_modern_policy_parse(self):
        """Seed 1 again with email.policy.default: structured headers and get_content()."""
        w = WORLD[1]
        for mid, infos in w.msgs.items():
            m = email.message_from_bytes(infos[0]["raw"], policy=email.policy.default)
            self.assertEqual(m["Message-ID"].strip(), f"<{mid}>")
            self.assertEqual(str(m["Subject"]), infos[0]["subject"])
            self.assertEqual([a.addr_spec.lower() for a in m["From"].addresses],
                             infos[0]["from"])
            for part in m.walk():
                if part.get_content_maintype() == "text":
                    self.assertIsInstance(part.get_content(), str)
            for h in ("To", "Cc"):
                if m[h] is not None:
                    self.assertFalse(m[h].defects, mid)

    def test_encoded_words(self):
        w = WORLD[1]
        n = 0
        for mid, infos in w.msgs.items():
            i = infos[0]
            if not i["subject"].isascii():
                n += 1
                raw = i["raw"].split(b"\n\n", 1)[0]
                self.assertRegex(raw, rb"(?im)^Subject: .*=\?[-\w]+\?[QqBb]\?")
        self.assertGreater(n, 100)

    def test_message_id_styles(self):
        w = WORLD[1]
        ids = list(w.msgs)
        self.assertTrue(any(i.endswith(".prod.outlook.com") for i in ids))
        self.assertTrue(any(i.startswith("CA") and i.endswith("@mail.gmail.com") for i in ids))
        self.assertTrue(any(re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-4", i) for i in ids))

    def test_references_stay_in_conversation_and_time_flows(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.truth:
                i = w.m(mid)
                ids = i["refs"] + ID_RE.findall(str(i["irt"] or ""))
                for r in ids:
                    self.assertIn(r, w.by_id, f"{mid} refers to unknown {r}")
                    self.assertEqual(w.by_id[r][1], label, f"{mid} refers across to {r}")
                    self.assertLess(w.m(r)["date"], i["date"], f"{mid} before {r}")

    def test_reply_headers_present_on_ordinary_replies(self):
        w = WORLD[1]
        plain = 0
        for label, mids in w.conv_sorted.items():
            for m in mids[1:]:
                tags = w.by_id[m][3]
                if set(tags) & {"subject_only_reply", "thread_index_only", "rfc822_in_reply_to",
                                "newsletter"}:
                    continue
                i = w.m(m)
                self.assertTrue(i["refs"] and i["irt"], m)
                plain += 1
        self.assertGreater(plain, 1000)

    def test_forward_and_first_messages_have_no_reference(self):
        for s in SEEDS:
            w = WORLD[s]
            for label, mids in w.conv_sorted.items():
                i = w.m(mids[0])
                self.assertFalse(i["refs"] or i["irt"], mids[0])


class Traps(unittest.TestCase):
    def test_subject_only_replies(self):
        in_generic = other_contact = same_sender = 0
        prefixes = Counter()
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("subject_only_reply"):
                i = w.m(mid)
                self.assertFalse(i["refs"], mid)
                self.assertIsNone(i["irt"], mid)
                self.assertRegex(i["subject"], REPLY_RE, mid)
                prefixes[i["subject"].split(":")[0].strip()] += 1
                before = w.earlier(mid)
                self.assertTrue(before, mid)
                base = G.norm_subject(i["subject"])
                self.assertTrue(any(G.norm_subject(w.m(b)["subject"]) == base for b in before),
                                mid)
                if "generic_subject" in tags:
                    in_generic += 1
                senders = {w.m(b)["from"][0] for b in before}
                sender = i["from"][0]
                if sender in senders:
                    same_sender += 1
                elif not sender.endswith(OUR):
                    doms = {a.split("@")[1] for a in senders}
                    if sender.split("@")[1] in doms:
                        other_contact += 1
        self.assertGreater(in_generic, 5)
        self.assertGreater(other_contact, 3)
        self.assertGreater(same_sender, 20)
        for p in ("Re", "RE", "AW", "SV"):
            self.assertGreater(prefixes[p], 0, prefixes)

    def test_generic_subjects_collide_across_customers(self):
        for s in SEEDS:
            w = WORLD[s]
            starts = defaultdict(list)
            for label, mids in w.conv_sorted.items():
                tags = w.by_id[mids[0]][3]
                if "generic_subject" not in tags or "newsletter" in tags:
                    continue
                i = w.m(mids[0])
                ext = sorted(w.external(mids[0])) or ["internal"]
                starts[i["subject"]].append((i["date"], label, ext[0]))
            close = 0
            for subj, lst in starts.items():
                lst.sort()
                for a, b in zip(lst, lst[1:]):
                    if b[0] - a[0] < 14 * 86400 and a[2] != b[2]:
                        close += 1
            self.assertGreater(close, 10, s)
            # two different Gmail users both write "Partnership terms"
            pt = [x for x in starts.get("Partnership terms", []) if x[2].endswith("@gmail.com")]
            self.assertGreaterEqual(len({x[2] for x in pt}), 2)
            self.assertTrue(any("Angebot für Lieferung – Rückfrage" == k for k in starts))

    def test_thread_index_only(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("thread_index_only"):
                i = w.m(mid)
                self.assertFalse(i["refs"] or i["irt"], mid)
                self.assertIsNotNone(i["msg"]["Thread-Topic"])
                ti = base64.b64decode(str(i["ti"]))
                self.assertGreaterEqual(len(ti), 27)
                self.assertEqual((len(ti) - 22) % 5, 0)
                before = [base64.b64decode(str(w.m(b)["ti"])) for b in w.earlier(mid)
                          if w.m(b)["ti"]]
                self.assertIn(ti[:-5], before, mid)
                self.assertIn(ti[:22], before, mid)

    def test_thread_index_roots(self):
        w = WORLD[1]
        roots = sum(1 for v in w.msgs.values() if v[0]["ti"] and
                    len(base64.b64decode(str(v[0]["ti"]))) == 22)
        self.assertGreater(roots, 100)

    def test_rfc822_in_reply_to(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("rfc822_in_reply_to"):
                i = w.m(mid)
                irt = str(i["irt"])
                self.assertNotRegex(irt.strip(), r"^<[^>]+>$")
                self.assertRegex(irt, r"message of")
                self.assertFalse(i["refs"], mid)
                ids = ID_RE.findall(irt)
                self.assertEqual(len(ids), 1)
                self.assertIn(ids[0], w.earlier(mid))

    def test_references_trimmed(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("references_trimmed"):
                i = w.m(mid)
                self.assertTrue(i["refs"], mid)
                before = w.earlier(mid)
                self.assertLess(len(i["refs"]), len(before), mid)
                self.assertTrue(set(i["refs"]) <= set(before))

    def test_forwards(self):
        for s in SEEDS:
            w = WORLD[s]
            labels = {t[1] for t in w.tagged("forward_new_conversation")}
            self.assertTrue(any(w.by_id[w.conv[l][0]][2] != "-" for l in labels))
            self.assertTrue(any(w.by_id[w.conv[l][0]][2] == "-" for l in labels))
            for label in labels:
                first = w.conv_sorted[label][0]
                i = w.m(first)
                self.assertRegex(i["subject"], r"^(FW|Fwd):")
                self.assertFalse(i["refs"] or i["irt"])
                base = G.norm_subject(i["subject"])
                src = [t for t in w.truth if t[1] != label and
                       G.norm_subject(w.m(t[0])["subject"]) == base and
                       w.m(t[0])["date"] < i["date"]]
                self.assertTrue(src, first)
                deal = w.by_id[first][2]
                if deal == "-":
                    self.assertTrue(all(a.endswith(OUR) for a in i["rcpt"]))
                else:
                    rel = set()
                    for a in i["rcpt"]:
                        rel |= w.open_deals_of(a)
                    self.assertEqual(rel, {deal})

    def test_subject_change(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("subject_change"):
                i = w.m(mid)
                self.assertTrue(i["refs"] and i["irt"])
                parent = ID_RE.findall(str(i["irt"]))[0]
                self.assertNotEqual(G.norm_subject(i["subject"]),
                                    G.norm_subject(w.m(parent)["subject"]))

    def test_late_replies(self):
        for s in SEEDS:
            w = WORLD[s]
            for mid, label, deal, tags in w.tagged("late_reply"):
                self.assertIn("subject_only_reply", tags)
                i = w.m(mid)
                last = max(w.m(b)["date"] for b in w.earlier(mid))
                self.assertGreater(i["date"] - last, 30 * 86400, mid)

    def test_auto_replies(self):
        w = WORLD[1]
        for mid, label, deal, tags in w.tagged("auto_reply"):
            m = w.m(mid)["msg"]
            self.assertEqual(str(m["Auto-Submitted"]), "auto-replied")
            self.assertTrue(w.m(mid)["irt"])

    def test_dates_spread_and_interleave(self):
        w = WORLD[1]
        months = Counter()
        for v in w.msgs.values():
            months[email.utils.parsedate_to_datetime(str(v[0]["msg"]["Date"])).month] += 1
        self.assertGreaterEqual(len([m for m in range(1, 7) if months[m] > 100]), 6)
        spans = sorted((w.m(v[0])["date"], w.m(v[-1])["date"]) for v in
                       w.conv_sorted.values() if len(v) > 1)
        overlapping = sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])
        self.assertGreater(overlapping, len(spans) // 3)
        zones = Counter(str(v[0]["msg"]["Date"])[-5:] for v in w.msgs.values())
        self.assertGreaterEqual(len(zones), 4, zones)


FAKE_CTL = r"""#!/usr/bin/env python3
import collections, os, sys
args = sys.argv[1:]
if args[:1] == ["--db"]:
    args = args[2:]
mode = os.environ["FAKE_MODE"]
rows = [l.rstrip("\n").split("\t") for l in open(os.environ["FAKE_TRUTH"], encoding="utf-8")]
if mode == "drop":
    rows = rows[1:]
if args[:2] == ["export", "threads"]:
    if mode == "merge_all":
        print(" ".join(sorted(r[0] for r in rows)))
    else:
        g = collections.defaultdict(list)
        for r in rows:
            g[r[1]].append(r[0])
        for line in sorted(" ".join(sorted(v)) for v in g.values()):
            print(line)
elif args[:2] == ["export", "deal-links"]:
    first = next(r[2] for r in rows if r[2] != "-")
    # resort_wrong: right until `resort` ran, then everything under one deal.
    spoiled = mode == "merge_all" or (mode == "resort_wrong" and os.path.exists(os.environ["FAKE_RESORTED"]))
    for r in rows:
        d = first if spoiled else r[2]
        print(f"{r[0]}\t{'unsorted' if d == '-' else d}\tfake")
elif args[:1] == ["resort"]:
    open(os.environ["FAKE_RESORTED"], "w").close()
    print('{"examined":0,"changes":[]}')
"""


class Scorer(unittest.TestCase):
    """score.py against a fake crm-mailctl that answers from the truth (or spoils it)."""

    def run_score(self, mode):
        ctl = os.path.join(TMP, "fake-ctl")
        with open(ctl, "w") as f:
            f.write(FAKE_CTL)
        os.chmod(ctl, 0o755)
        resorted = os.path.join(TMP, "fake-resorted")
        if os.path.exists(resorted):
            os.remove(resorted)
        env = dict(os.environ, FAKE_MODE=mode, FAKE_RESORTED=resorted,
                   FAKE_TRUTH=os.path.join(DIRS[1], "truth.tsv"))
        p = subprocess.run([sys.executable, os.path.join(HERE, "score.py"), ctl, DIRS[1]],
                           env=env, capture_output=True, text=True)
        return p.returncode, p.stdout

    def test_perfect(self):
        rc, out = self.run_score("perfect")
        self.assertEqual(rc, 0, out)
        self.assertIn("threads: precision 1.0000 recall 1.0000 f1 1.0000", out)
        self.assertRegex(out, r"deals: precision 1\.0000 \(\d+/\d+\) coverage 1\.0000")
        self.assertNotIn("FAIL", out)

    def test_everything_merged(self):
        rc, out = self.run_score("merge_all")
        self.assertEqual(rc, 1)
        self.assertIn("FAIL: thread precision", out)
        self.assertIn("FAIL: deal precision", out)
        self.assertNotIn("FAIL: thread recall", out)
        self.assertIn("false merges (1 threads", out)

    def test_resort_that_spoils_links_fails(self):
        rc, out = self.run_score("resort_wrong")
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"deals: precision 1\.0000 \(\d+/\d+\) coverage 1\.0000")
        self.assertIn("FAIL: deal precision after resort", out)

    def test_missing_message(self):
        rc, out = self.run_score("drop")
        self.assertEqual(rc, 1)
        self.assertIn(WORLD[1].truth[0][0], out)
        self.assertIn("missing from export threads", out)


def main():
    verbosity = 2 if "-v" in sys.argv else 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    res = unittest.TextTestRunner(verbosity=verbosity, stream=sys.stdout).run(suite)
    failed = len(res.failures) + len(res.errors)
    passed = res.testsRun - failed - len(res.skipped)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not res.wasSuccessful() else 0


if __name__ == "__main__":
    sys.exit(main())
