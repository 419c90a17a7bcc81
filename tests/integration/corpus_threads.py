#!/usr/bin/env python3
"""Thread grouping of crm-mailctl against notmuch's on the corpora threaded by References.

For each corpus: import it into a scratch database with `crm-mailctl import`, `export threads`,
and compare the grouping with the corpus's expected/notmuch-threads*.  Every difference must be
listed, with its explanation, in thread_differences.txt beside this script; an unlisted
difference, or a listed one that no longer occurs, fails the test.

Usage: corpus_threads.py CRM_MAILCTL CORPORA_DIR [WORK_DIR]
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# (name, paths to import relative to the corpus, expected file relative to the corpus)
SINGLE_DB = [
    ("notmuch-default", ["."], "expected/notmuch-threads.txt"),
    ("notmuch-lkml", ["."], "expected/notmuch-threads.txt"),
    ("notmuch-threading", ["."], "expected/notmuch-threads.txt"),
    ("notmuch-edge-cases", ["."], "expected/notmuch-threads.txt"),
    ("fedora-devel-2010-01", ["2010-January.txt.gz"], "expected/notmuch-threads.txt"),
    ("ponymail-asf", ["corpus"], "expected/notmuch-threads.txt"),
    ("sling-mail-archive", ["mbox", "three_messages.mbox", "wrongbody.mbox"],
     "expected/notmuch-threads.txt"),
]
SKIP_NAMES = {"MANIFEST.md", "README", "README.md", "LICENSES", "expected"}


def per_file_jobs(corpora):
    jobs = []
    for corpus, pattern in (("imaptest", "tests"), ("jwz-testthreader", ".")):
        base = os.path.join(corpora, corpus, pattern)
        for f in sorted(os.listdir(base)):
            if not f.endswith(".mbox"):
                continue
            stem = f[:-5]
            if corpus == "imaptest" and not (stem == "thread" or
                                             (stem.startswith("thread") and stem[6:].isdigit())):
                continue
            exp = os.path.join(corpora, corpus, "expected", "notmuch-threads", stem + ".txt")
            if os.path.exists(exp):
                jobs.append((f"{corpus}/{stem}", [os.path.join(base, f)], exp))
    return jobs


def import_paths(corpus_dir, rels):
    out = []
    for rel in rels:
        p = os.path.normpath(os.path.join(corpus_dir, rel))
        if os.path.isdir(p) and rel == ".":
            out += [os.path.join(p, e) for e in sorted(os.listdir(p)) if e not in SKIP_NAMES]
        else:
            out.append(p)
    return out


def run_ctl(ctl, db, *args):
    r = subprocess.run([ctl, "--db", db, *args], capture_output=True, text=True)
    return r


def groups_of(lines):
    gid = {}
    for n, line in enumerate(lines):
        for mid in line.split():
            gid[mid] = n
    return gid


def compare(name, ours_lines, expected_lines):
    """Returns the differences as stable text lines."""
    # Messages without a Message-ID get tool-specific ids; they are compared by count only.
    synth = lambda m: m.startswith("notmuch-sha1-") or m.startswith("crm-sha256-")
    ours = [[m for m in l.split() if not synth(m)] for l in ours_lines]
    exp = [[m for m in l.split() if not synth(m)] for l in expected_lines]
    ours = [g for g in ours if g]
    exp = [g for g in exp if g]
    og, eg = groups_of([" ".join(g) for g in ours]), groups_of([" ".join(g) for g in exp])
    diffs = []
    for m in sorted(set(eg) - set(og)):
        diffs.append(f"{name}: missing {m}")
    for m in sorted(set(og) - set(eg)):
        diffs.append(f"{name}: extra {m}")
    common = set(og) & set(eg)
    seen = set()
    for g in ours:
        members = [m for m in g if m in common]
        if not members:
            continue
        exp_groups = sorted({eg[m] for m in members})
        if len(exp_groups) > 1:
            parts = [" ".join(sorted(m for m in members if eg[m] == x)) for x in exp_groups]
            key = " | ".join(sorted(parts))
            if key not in seen:
                seen.add(key)
                diffs.append(f"{name}: joined {key}")
    for g in exp:
        members = [m for m in g if m in common]
        our_groups = sorted({og[m] for m in members})
        if len(our_groups) > 1:
            parts = [" ".join(sorted(m for m in members if og[m] == x)) for x in our_groups]
            diffs.append(f"{name}: split {' | '.join(sorted(parts))}")
    return diffs


def load_allowed():
    allowed = {}
    path = os.path.join(HERE, "thread_differences.txt")
    with open(path, encoding="utf-8") as f:
        why, fresh = "", True
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                why = (line[1:].strip() if fresh else why + " " + line[1:].strip())
                fresh = False
            elif line.strip():
                allowed[line.strip()] = why
                fresh = True
            else:
                fresh = True
    return allowed


def main():
    ctl, corpora = sys.argv[1], sys.argv[2]
    work = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="crm-corpus-")
    os.makedirs(work, exist_ok=True)
    jobs = [(n, import_paths(os.path.join(corpora, n), rels), os.path.join(corpora, n, exp))
            for n, rels, exp in SINGLE_DB]
    jobs += [(n, paths, exp) for n, paths, exp in per_file_jobs(corpora)]
    all_diffs, failures, checked = [], [], 0
    for name, paths, expected in jobs:
        db = os.path.join(work, name.replace("/", "__") + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        r = run_ctl(ctl, db, "import", *paths)
        if r.returncode not in (0, 1):
            failures.append(f"{name}: import exited {r.returncode}: {r.stderr.strip()}")
            continue
        r = run_ctl(ctl, db, "export", "threads")
        if r.returncode != 0:
            failures.append(f"{name}: export exited {r.returncode}: {r.stderr.strip()}")
            continue
        ours = [l for l in r.stdout.splitlines() if l.strip()]
        with open(expected, encoding="utf-8") as f:
            exp = [l for l in f.read().splitlines() if l.strip()]
        checked += 1
        d = compare(name, ours, exp)
        print(f"{name}: {len(ours)} threads (notmuch {len(exp)}), {len(d)} difference(s)")
        all_diffs += d
    allowed = load_allowed()
    unexpected = [d for d in all_diffs if d not in allowed]
    stale = [a for a in allowed if a not in all_diffs]
    for d in unexpected:
        print("UNEXPECTED DIFFERENCE:", d)
    for a in stale:
        print("LISTED DIFFERENCE NO LONGER OCCURS:", a)
    for f in failures:
        print("FAILURE:", f)
    for d in all_diffs:
        if d in allowed:
            print(f"intended: {d}  ({allowed[d]})")
    ok = not unexpected and not stale and not failures and checked > 0
    print(f"{checked} corpora compared; {len(all_diffs)} differences, all intended" if ok else
          f"{checked} corpora compared; FAILED")
    if ok and len(sys.argv) <= 3:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
