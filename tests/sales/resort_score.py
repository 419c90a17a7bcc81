#!/usr/bin/env python3
"""Re-sorting after the CRM learns customers late, scored on a generated sales mailbox.

    resort_score.py CRM_MAILCTL GEN_DIR [--work DIR]

The mailbox is imported while the CRM lacks every fourth company (its domains, contacts and
deals); those companies' mail goes unsorted. Then the whole CRM is imported and
`crm-mailctl resort` (what crm-maild does within seconds of a CRM change) decides the unsorted
threads again. Deal precision and coverage are scored against GEN_DIR/truth.tsv before and after;
then `resort --all` checks the automatic links too. Exits 1 when the links a re-sort makes are
less precise than --min-deal-precision (0.995), when it adds a wrong link, or when the first does
not raise coverage.
"""
import argparse
import csv
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from score import Runner, ratio, read_truth  # noqa: E402


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = next(r)
        return header, list(r)


def partial_crm(gen, out):
    """The CRM without every fourth company and what belongs to it; returns the companies left out."""
    os.makedirs(out, exist_ok=True)
    h, companies = read_csv(os.path.join(gen, "crm", "companies.csv"))
    late = {row[0] for i, row in enumerate(companies) if i % 4 == 3}
    write_csv(os.path.join(out, "companies.csv"), h, [r for r in companies if r[0] not in late])
    h, contacts = read_csv(os.path.join(gen, "crm", "contacts.csv"))
    ci = h.index("company_id")
    late_contacts = {r[0] for r in contacts if r[ci] in late}
    write_csv(os.path.join(out, "contacts.csv"), h, [r for r in contacts if r[0] not in late_contacts])
    h, deals = read_csv(os.path.join(gen, "crm", "deals.csv"))
    dc, dk = h.index("company_id"), h.index("contact_ids")
    write_csv(os.path.join(out, "deals.csv"), h,
              [r for r in deals if r[dc] not in late and not set(r[dk].split()) & late_contacts])
    shutil.copy(os.path.join(gen, "crm", "users.csv"), os.path.join(out, "users.csv"))
    return late


def deal_links(run):
    p, _ = run("export", "deal-links")
    got = {}
    for line in p.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) >= 2:
            got[parts[0]] = parts[1]
    return got


def deal_scores(got, truth):
    linked = correct = should = 0
    for mid, (_lab, deal, _tags) in truth.items():
        g = got.get(mid, "unsorted")
        linked += g != "unsorted"
        if deal != "-":
            should += 1
            correct += g == deal
    return ratio(correct, linked), ratio(correct, should), correct, linked, should


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ctl")
    ap.add_argument("gen")
    ap.add_argument("--work")
    ap.add_argument("--min-deal-precision", type=float, default=0.995)
    a = ap.parse_args(argv)
    gen = os.path.abspath(a.gen)
    work = os.path.abspath(a.work) if a.work else tempfile.mkdtemp(prefix="resort-score.")
    os.makedirs(work, exist_ok=True)
    try:
        db = os.path.join(work, "crm.db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        run = Runner(os.path.abspath(a.ctl), db)
        truth = read_truth(gen)
        with open(os.path.join(gen, "owner_id")) as f:
            owner = f.read().strip()
        late = partial_crm(gen, os.path.join(work, "crm-partial"))
        run("db", "migrate")
        for what in ("users", "companies", "contacts", "deals"):
            run("crm", "import", what, os.path.join(work, "crm-partial", what + ".csv"))
        run("import", "--owner", owner, os.path.join(gen, "Maildir"))
        before = deal_links(run)
        p0, c0, n0, l0, s0 = deal_scores(before, truth)
        print(f"CRM without {len(late)} companies: deals precision {p0:.4f} ({n0}/{l0}) "
              f"coverage {c0:.4f} ({n0}/{s0})")
        for what in ("companies", "contacts", "deals"):
            run("crm", "import", what, os.path.join(gen, "crm", what + ".csv"))
        fails = []
        for step in (["resort"], ["resort", "--all"]):
            p, dt = run(*step, "--json")
            report = json.loads(p.stdout)
            changes = report["changes"]
            after = deal_links(run)
            p1, c1, n1, l1, s1 = deal_scores(after, truth)
            # The re-sort's own links: messages unsorted before and linked now.
            new = [m for m in truth if before.get(m, "unsorted") == "unsorted"
                   and after.get(m, "unsorted") != "unsorted"]
            right = sum(1 for m in new if after[m] == truth[m][1])
            wrong_before = l0 - n0 if step == ["resort"] else wrong_prev
            wrong_now = l1 - n1
            print(f"after the whole CRM, crm-mailctl {' '.join(step)}: {report['examined']} "
                  f"threads decided again in {dt:.1f} s, "
                  f"{sum(1 for c in changes if c['to'] is not None)} linked, "
                  f"{sum(1 for c in changes if c['held'])} held; its new links: precision "
                  f"{ratio(right, len(new)):.4f} ({right}/{len(new)}); deals: precision {p1:.4f} "
                  f"({n1}/{l1}) coverage {c1:.4f} ({n1}/{s1}); wrong links {wrong_before} -> "
                  f"{wrong_now}")
            if ratio(right, len(new)) < a.min_deal_precision:
                fails.append(f"{' '.join(step)}: its links' precision {ratio(right, len(new)):.4f} "
                             f"< {a.min_deal_precision}")
            if wrong_now > wrong_before:
                fails.append(f"{' '.join(step)}: wrong links rose from {wrong_before} to {wrong_now}")
            if step == ["resort"] and c1 <= c0:
                fails.append(f"resort did not raise coverage ({c0:.4f} -> {c1:.4f})")
            before, wrong_prev = after, wrong_now
        for f in fails:
            print("FAIL:", f)
        return 1 if fails else 0
    finally:
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
