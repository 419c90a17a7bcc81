#!/usr/bin/env python3
"""Score crm-mailctl's threading and deal sorting on a mailbox made by gen_sales_mailbox.py.

Usage: score.py CRM_MAILCTL GEN_DIR [--min-thread-precision 0.999] [--min-thread-recall 0.98]
                [--min-deal-precision 0.995] [--min-deal-coverage 0.90] [--work DIR] [--notmuch]

Imports GEN_DIR/crm/*.csv and GEN_DIR/Maildir into a scratch database (GEN_DIR/owner_id is the
mailbox owner), exports threads and deal links, and compares them with GEN_DIR/truth.tsv:
  threads  pairwise over all unordered pairs of messages: precision = pairs in one predicted
           thread that are truly one conversation / pairs in one predicted thread; recall =
           the same / pairs truly one conversation (counted through a contingency table).
  deals    precision = messages linked to their true deal / messages linked to any deal;
           coverage = messages linked to their true deal / messages whose true answer is a deal.
Per trap tag: messages, wrong deal links, deals missed (unsorted), falsely merged and split off
messages; then examples of wrong links, false merges, misses and splits.
Exit code 1 (with a FAIL line for each) when a metric is under its threshold, a message of the
truth is missing from the export (or one is extra), or a command fails.
--notmuch also threads the Maildir with notmuch (if installed) and prints its pairwise figures
on the same truth, for comparison only.
--work DIR keeps the database, the exports and notmuch's database in DIR.
"""
import argparse
import email.header
import email.parser
import email.policy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict

ID_RE = re.compile(r"<([^<>\s]+)>")
MAX_EXAMPLES = 15


def pairs(n):
    return n * (n - 1) // 2


def pairwise(truth_label, pred):
    """truth_label: {mid: label}; pred: {mid: thread key}. Returns (tp, true_pairs, pred_pairs)
    over the messages of the truth (a missing message counts as a thread of its own)."""
    cells, a, b = Counter(), Counter(), Counter()
    for mid, lab in truth_label.items():
        p = pred.get(mid, ("missing", mid))
        cells[(lab, p)] += 1
        a[lab] += 1
        b[p] += 1
    tp = sum(pairs(n) for n in cells.values())
    return tp, sum(pairs(n) for n in a.values()), sum(pairs(n) for n in b.values())


def ratio(n, d):
    return n / d if d else 1.0


def prf(tp, true_pairs, pred_pairs):
    p, r = ratio(tp, pred_pairs), ratio(tp, true_pairs)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def read_truth(gen):
    truth = {}
    with open(os.path.join(gen, "truth.tsv"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                sys.exit(f"score.py: {gen}/truth.tsv:{n}: expected 4 columns")
            mid, label, deal, tags = parts
            truth[mid] = (label, deal, [] if tags == "-" else tags.split(","))
    return truth


def subjects(maildir):
    """{Message-ID: (subject, from)} read from the headers of the Maildir's files."""
    out = {}
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    for d, _subdirs, files in os.walk(maildir):
        if os.path.basename(d) not in ("cur", "new"):
            continue
        for f in files:
            with open(os.path.join(d, f), "rb") as fh:
                h = parser.parse(fh)
            m = ID_RE.search(str(h["Message-ID"] or ""))
            if not m:
                continue
            try:
                subj = str(email.header.make_header(email.header.decode_header(
                    str(h["Subject"] or "")))).replace("\n", "").replace("\r", "")
            except Exception:
                subj = str(h["Subject"])
            out[m.group(1)] = (subj, str(h["From"] or "").replace("\n", ""))
    return out


class Runner:
    def __init__(self, ctl, db):
        self.ctl, self.db = ctl, db

    def __call__(self, *args, check=True):
        cmd = [self.ctl, "--db", self.db] + list(args)
        t = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        dt = time.monotonic() - t
        if check and p.returncode != 0:
            print(f"FAIL: {' '.join(args[:3])} exited {p.returncode}", file=sys.stdout)
            sys.stdout.write(p.stdout[-4000:])
            sys.stdout.write(p.stderr[-4000:])
            sys.exit(1)
        return p, dt


def notmuch_threads(maildir, work):
    """{Message-ID: thread id} as notmuch threads the Maildir, or None without notmuch."""
    nm = shutil.which("notmuch")
    if nm is None:
        print("notmuch: not installed, skipped")
        return None
    dbdir = os.path.join(work, "notmuch-db")
    shutil.rmtree(dbdir, ignore_errors=True)
    os.makedirs(dbdir)
    cfg = os.path.join(work, "notmuch-config")
    with open(cfg, "w") as f:
        f.write(f"[database]\npath={dbdir}\nmail_root={os.path.abspath(maildir)}\n\n"
                "[new]\ntags=\nignore=\n\n[maildir]\nsynchronize_flags=false\n\n"
                "[search]\nexclude_tags=\n\n[user]\nname=score\nprimary_email=score@invalid\n")
    env = dict(os.environ, NOTMUCH_CONFIG=cfg)
    p = subprocess.run([nm, "new", "--quiet"], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"notmuch: 'notmuch new' failed ({p.returncode}): {p.stderr.strip()[:500]}")
        return None
    p = subprocess.run([nm, "show", "--format=json", "--entire-thread=true", "--body=false",
                        "*"], env=env, capture_output=True, text=True)
    if p.returncode != 0:
        print(f"notmuch: 'notmuch show' failed ({p.returncode}): {p.stderr.strip()[:500]}")
        return None
    out = {}

    def walk(nodes, tid):
        for node in nodes:
            if isinstance(node, list) and node and isinstance(node[0], dict):
                if node[0].get("id"):
                    out[node[0]["id"]] = tid
                walk(node[1] if len(node) > 1 else [], tid)
            elif isinstance(node, list):
                walk(node, tid)

    for tid, thread in enumerate(json.loads(p.stdout)):
        walk(thread, tid)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("ctl")
    ap.add_argument("gen")
    ap.add_argument("--min-thread-precision", type=float, default=0.999)
    ap.add_argument("--min-thread-recall", type=float, default=0.98)
    ap.add_argument("--min-deal-precision", type=float, default=0.995)
    ap.add_argument("--min-deal-coverage", type=float, default=0.90)
    ap.add_argument("--work")
    ap.add_argument("--notmuch", action="store_true")
    a = ap.parse_args(argv)

    gen = os.path.abspath(a.gen)
    maildir = os.path.join(gen, "Maildir")
    with open(os.path.join(gen, "owner_id")) as f:
        owner = f.read().strip()
    truth = read_truth(gen)
    if a.work:
        work = os.path.abspath(a.work)
        os.makedirs(work, exist_ok=True)
        cleanup = False
    else:
        work = tempfile.mkdtemp(prefix="sales-score.")
        cleanup = True
    try:
        return score(a, gen, maildir, owner, truth, work)
    finally:
        if cleanup:
            shutil.rmtree(work, ignore_errors=True)


def score(a, gen, maildir, owner, truth, work):
    fails = []
    db = os.path.join(work, "crm.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.remove(db + suffix)
    run = Runner(os.path.abspath(a.ctl), db)
    run("db", "migrate")
    for what in ("users", "companies", "contacts", "deals"):
        p, _ = run("crm", "import", what, os.path.join(gen, "crm", what + ".csv"), check=False)
        if p.returncode != 0:
            fails.append(f"crm import {what} exited {p.returncode}: "
                         f"{(p.stderr or p.stdout).strip()[:300]}")
    p, dt = run("import", "--owner", owner, maildir, check=False)
    for line in p.stdout.strip().splitlines()[:12]:
        print(f"import: {line.strip()}")
    print(f"import: {dt:.1f} s")
    if p.returncode != 0:
        fails.append(f"import exited {p.returncode}: {p.stderr.strip()[:300]}")
    p, _ = run("export", "threads")
    thread_lines = p.stdout.splitlines()
    p, _ = run("export", "deal-links")
    link_lines = p.stdout.splitlines()
    with open(os.path.join(work, "threads.txt"), "w") as f:
        f.write("\n".join(thread_lines) + "\n")
    with open(os.path.join(work, "deal-links.tsv"), "w") as f:
        f.write("\n".join(link_lines) + "\n")

    pred = {}
    for n, line in enumerate(thread_lines):
        for mid in line.split():
            pred[mid] = n
    links = {}
    for line in link_lines:
        parts = line.split("\t")
        if len(parts) >= 2:
            links[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
    missing = [m for m in truth if m not in pred]
    extra = [m for m in pred if m not in truth]
    missing_links = [m for m in truth if m not in links]
    if missing:
        fails.append(f"{len(missing)} message(s) of the truth missing from export threads, "
                     f"e.g. {', '.join(missing[:5])}")
    if extra:
        fails.append(f"{len(extra)} message(s) in export threads not in the truth, "
                     f"e.g. {', '.join(extra[:5])}")
    if missing_links:
        fails.append(f"{len(missing_links)} message(s) of the truth missing from export "
                     f"deal-links, e.g. {', '.join(missing_links[:5])}")

    # threads
    label = {m: t[0] for m, t in truth.items()}
    tp, tpairs, ppairs = pairwise(label, pred)
    tprec, trec, tf1 = prf(tp, tpairs, ppairs)
    nconv = len(set(label.values()))
    nthreads = len({pred[m] for m in truth if m in pred})
    print(f"threads: precision {tprec:.4f} recall {trec:.4f} f1 {tf1:.4f} "
          f"(pairs: true {tpairs}, predicted {ppairs}, correct {tp}; "
          f"{nthreads} threads for {nconv} conversations, {len(truth)} messages)")

    # deals
    linked = correct = should = 0
    for mid, (lab, deal, tags) in truth.items():
        got = links.get(mid, ("unsorted", ""))[0]
        if got != "unsorted":
            linked += 1
        if deal != "-":
            should += 1
            if got == deal:
                correct += 1
    dprec, dcov = ratio(correct, linked), ratio(correct, should)
    print(f"deals: precision {dprec:.4f} ({correct}/{linked}) "
          f"coverage {dcov:.4f} ({correct}/{should})")

    # per conversation: the predicted thread holding most of it; per thread: its conversations
    conv_threads = defaultdict(Counter)
    thread_convs = defaultdict(Counter)
    for mid, (lab, _d, _t) in truth.items():
        p = pred.get(mid, ("missing", mid))
        conv_threads[lab][p] += 1
        thread_convs[p][lab] += 1
    main_thread = {lab: min(c.items(), key=lambda kv: (-kv[1], str(kv[0])))[0]
                   for lab, c in conv_threads.items()}

    def merged(mid):
        p = pred.get(mid, ("missing", mid))
        return len(thread_convs[p]) > 1

    def split(mid):
        return pred.get(mid, ("missing", mid)) != main_thread[truth[mid][0]]

    def wrong_link(mid):
        got = links.get(mid, ("unsorted", ""))[0]
        return got != "unsorted" and got != truth[mid][1]

    def missed(mid):
        got = links.get(mid, ("unsorted", ""))[0]
        return truth[mid][1] != "-" and got == "unsorted"

    by_tag = defaultdict(list)
    for mid, (_l, _d, tags) in truth.items():
        for t in tags or ["(none)"]:
            by_tag[t].append(mid)
    print(f"{'trap':28s} {'msgs':>6s} {'wrong-deal':>10s} {'missed-deal':>11s} "
          f"{'merged':>7s} {'split':>6s}")
    for t in sorted(by_tag):
        mids = by_tag[t]
        print(f"{t:28s} {len(mids):6d} {sum(map(wrong_link, mids)):10d} "
              f"{sum(map(missed, mids)):11d} {sum(map(merged, mids)):7d} "
              f"{sum(map(split, mids)):6d}")

    wrong = [m for m in truth if wrong_link(m)]
    false_merges = [p for p, c in thread_convs.items() if len(c) > 1]
    misses = [m for m in truth if missed(m)]
    splits = [m for m in truth if split(m)]
    subj = subjects(maildir) if (wrong or false_merges or misses or splits) else {}

    def describe(mid):
        s, frm = subj.get(mid, ("?", "?"))
        lab, deal, tags = truth[mid]
        return (f"{mid}\n      subject {s!r} from {frm}\n      conv {lab} true deal {deal} "
                f"tags {','.join(tags) or '-'}")

    if wrong:
        print(f"\nwrong deal links ({len(wrong)}, first {min(len(wrong), MAX_EXAMPLES)}):")
        for mid in wrong[:MAX_EXAMPLES]:
            got, reason = links[mid]
            print(f"  {describe(mid)}\n      linked to {got}: {reason}")
    if false_merges:
        print(f"\nfalse merges ({len(false_merges)} threads, first "
              f"{min(len(false_merges), MAX_EXAMPLES)}):")
        members = defaultdict(list)
        for mid in truth:
            members[pred.get(mid, ("missing", mid))].append(mid)
        for p in false_merges[:MAX_EXAMPLES]:
            convs = thread_convs[p]
            print(f"  thread of {sum(convs.values())} messages from {len(convs)} conversations:")
            for lab in sorted(convs):
                ms = [m for m in members[p] if truth[m][0] == lab]
                print(f"    {lab} ({convs[lab]} here of {sum(conv_threads[lab].values())}, "
                      f"deal {truth[ms[0]][1]}):")
                for m in ms[:3]:
                    s, frm = subj.get(m, ("?", "?"))
                    reason = links.get(m, ("", ""))[1]
                    print(f"      {m}  {s!r}  from {frm}  tags {','.join(truth[m][2]) or '-'}"
                          f"  [{reason}]")
    if misses:
        print(f"\ndeals missed (unsorted) ({len(misses)}, first {min(len(misses), 10)}):")
        for mid in misses[:10]:
            print(f"  {describe(mid)}\n      unsorted: {links.get(mid, ('', ''))[1]}")
    if splits:
        print(f"\nsplit off from their conversation ({len(splits)}, first "
              f"{min(len(splits), 10)}):")
        for mid in splits[:10]:
            print(f"  {describe(mid)}")

    if a.notmuch:
        nm = notmuch_threads(maildir, work)
        if nm is not None:
            ntp, ntrue, npred = pairwise(label, nm)
            p, r, f1 = prf(ntp, ntrue, npred)
            nmiss = sum(1 for m in truth if m not in nm)
            print(f"\nnotmuch threads (comparison only): precision {p:.4f} recall {r:.4f} "
                  f"f1 {f1:.4f} (pairs: true {ntrue}, predicted {npred}, correct {ntp}; "
                  f"{len(set(nm.values()))} threads, {nmiss} messages missing)")

    # Re-sorting (crm-mailctl resort --all, what crm-maild does after CRM changes) with the CRM
    # unchanged must not cost precision: its decisions from whole threads are scored the same way.
    p, _ = run("resort", "--all", "--json", check=False)
    if p.returncode != 0:
        fails.append(f"resort --all exited {p.returncode}: {p.stderr.strip()[:300]}")
        rprec = rcov = 0.0
    else:
        changes = json.loads(p.stdout)["changes"]
        p, _ = run("export", "deal-links")
        after = {}
        for line in p.stdout.splitlines():
            parts = line.split("\t")
            if len(parts) >= 2:
                after[parts[0]] = parts[1]
        rlinked = rcorrect = 0
        for mid, (lab, deal, tags) in truth.items():
            got = after.get(mid, "unsorted")
            rlinked += got != "unsorted"
            rcorrect += deal != "-" and got == deal
        rprec, rcov = ratio(rcorrect, rlinked), ratio(rcorrect, should)
        print(f"after resort --all: {len(changes)} thread(s) changed "
              f"({sum(1 for c in changes if c['to'] is not None)} linked, "
              f"{sum(1 for c in changes if c['held'])} held); deals: precision {rprec:.4f} "
              f"({rcorrect}/{rlinked}) coverage {rcov:.4f} ({rcorrect}/{should})")

    for name, val, lim in (("thread precision", tprec, a.min_thread_precision),
                           ("deal precision after resort", rprec, a.min_deal_precision),
                           ("thread recall", trec, a.min_thread_recall),
                           ("deal precision", dprec, a.min_deal_precision),
                           ("deal coverage", dcov, a.min_deal_coverage)):
        if val < lim:
            fails.append(f"{name} {val:.4f} < {lim}")
    print()
    for f in fails:
        print(f"FAIL: {f}")
    if not fails:
        print("OK: all metrics at or above their thresholds")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
