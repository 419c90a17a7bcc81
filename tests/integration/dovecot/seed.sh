#!/usr/bin/env bash
# Delivers messages into a user's mailbox of the test Dovecot started by start.sh DIR.
#
#   seed.sh DIR USER [--folder NAME] SOURCE...
#
# SOURCE may be
#   - a Maildir (a directory with cur/ and/or new/): top-level messages only, in file name order
#     (natural sort, so "2:2," comes before "10:2,"); flags from the ":2,FLAGS" suffix are kept
#     (S -> \Seen, R -> \Answered, F -> \Flagged, T -> \Deleted, D -> \Draft); new/ is unflagged;
#   - an mbox file (first line "From "), split with python3's mailbox module; Status: R/O and
#     X-Status: A/F/T/D headers map to the same flags;
#   - any other file: one RFC 5322 message (.eml);
#   - any other directory: each regular, non-hidden file in it (recursively), as mbox or .eml.
# The folder (default INBOX) is created if missing. Each message goes in with
# `doveadm save -u USER -m FOLDER`, then flags are set with `doveadm flags add ... uid N`
# (UIDs are taken from UIDNEXT, so do not deliver to the same folder concurrently).
# INTERNALDATE: Dovecot's Maildir takes it from the stored file's mtime, so after saving, the
# file is touched to the message's original arrival time: the topmost Received: header's date,
# else the Date: header, else the mbox From_ line date or the Maildir file name's leading unix
# time (e.g. "1764000001.s1.demo"); messages without any of these keep the delivery time.
# The folder's dovecot.index.cache is then deleted (it already holds the delivery time).
# Prints "seed.sh: delivered N message(s) to USER/FOLDER"; exits non-zero on any failure.
set -euo pipefail
[ $# -ge 3 ] || { echo "usage: $0 DIR USER [--folder NAME] MAILDIR_OR_MBOX_OR_EML..." >&2; exit 2; }
exec python3 - "$@" <<'EOF'
import calendar, email.parser, email.utils, mailbox, os, re, shlex, subprocess, sys, time

args = sys.argv[1:]
d, user, rest = args[0], args[1], args[2:]
folder = "INBOX"
sources = []
i = 0
while i < len(rest):
    if rest[i] == "--folder" and i + 1 < len(rest):
        folder = rest[i + 1]; i += 2
    else:
        sources.append(rest[i]); i += 1
if not sources:
    sys.exit("seed.sh: no message sources given")

env = {}
with open(os.path.join(d, "env")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        env[k] = (shlex.split(v) or [""])[0]
doveadm = shlex.split(env["DOVEADM"])

def run(cmd, data=None, check=True):
    p = subprocess.run(doveadm + cmd, input=data, capture_output=True)
    if check and p.returncode != 0:
        sys.exit("seed.sh: %s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                  p.stderr.decode(errors="replace").strip()))
    return p

def natural(name):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]

MAILDIR_FLAGS = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}

def maildir_messages(path):
    out = []
    for sub in ("cur", "new"):
        p = os.path.join(path, sub)
        if not os.path.isdir(p):
            continue
        for name in os.listdir(p):
            fp = os.path.join(p, name)
            if name.startswith(".") or not os.path.isfile(fp):
                continue
            flags = set()
            if sub == "cur" and ":2," in name:
                flags = {MAILDIR_FLAGS[c] for c in name.rsplit(":2,", 1)[1] if c in MAILDIR_FLAGS}
            out.append((natural(name), fp, flags, name))
    out.sort(key=lambda t: t[0])
    result = []
    for _, fp, flags, name in out:
        data = open(fp, "rb").read()
        m = re.match(r"(\d{9,10})\.", name)
        when = header_date(data)
        if when is None and m:
            when = int(m.group(1))
        result.append((data, flags, when))
    return result

def header_date(data):
    """Arrival time from the topmost Received: header, else Date:, as unix time (or None)."""
    hdr = email.parser.BytesHeaderParser().parsebytes(data)
    cands = []
    rec = hdr.get_all("Received") or []
    if rec:
        cands.append(str(rec[0]).rsplit(";", 1)[-1])
    if hdr.get("Date"):
        cands.append(str(hdr.get("Date")))
    for c in cands:
        try:
            t = email.utils.parsedate_tz(" ".join(c.split()))
            if t:
                return email.utils.mktime_tz(t)
        except (TypeError, ValueError, OverflowError):
            pass
    return None

def mbox_messages(path):
    box = mailbox.mbox(path, create=False)
    out = []
    for key in box.keys():
        msg = box.get_message(key)
        flags = set()
        status = (msg.get("Status", "") or "") + (msg.get("X-Status", "") or "")
        for c, fl in (("R", "\\Seen"), ("A", "\\Answered"), ("F", "\\Flagged"),
                      ("T", "\\Draft"), ("D", "\\Deleted")):
            if c in status:
                flags.add(fl)
        data = box.get_bytes(key, from_=False)
        when = header_date(data)
        if when is None:
            try:  # From_ line: "sender Tue Nov 17 18:04:31 2009"
                parts = msg.get_from().split()
                when = calendar.timegm(time.strptime(" ".join(parts[-5:]), "%a %b %d %H:%M:%S %Y"))
            except (ValueError, IndexError, AttributeError):
                pass
        out.append((data, flags, when))
    box.close()
    return out

def file_messages(path):
    with open(path, "rb") as f:
        head = f.read(5)
    if head == b"From ":
        return mbox_messages(path)
    data = open(path, "rb").read()
    return [(data, set(), header_date(data))]

messages = []
for src in sources:
    if os.path.isdir(src):
        if os.path.isdir(os.path.join(src, "cur")) or os.path.isdir(os.path.join(src, "new")):
            messages += maildir_messages(src)
        else:
            files = []
            for root, dirs, names in os.walk(src):
                dirs[:] = [x for x in dirs if not x.startswith(".")]
                files += [os.path.join(root, n) for n in names if not n.startswith(".")]
            for fp in sorted(files, key=natural):
                messages += file_messages(fp)
    elif os.path.isfile(src):
        messages += file_messages(src)
    else:
        sys.exit("seed.sh: no such file or directory: %s" % src)

if folder.upper() != "INBOX":
    p = run(["mailbox", "create", "-u", user, folder], check=False)
    if p.returncode != 0 and b"already exists" not in p.stderr.lower() and b"exists" not in p.stderr.lower():
        sys.exit("seed.sh: cannot create %s: %s" % (folder, p.stderr.decode(errors="replace")))

def uidnext():
    out = run(["-f", "flow", "mailbox", "status", "-u", user, "uidnext", folder]).stdout.decode()
    m = re.search(r"uidnext=(\d+)", out)
    if not m:
        sys.exit("seed.sh: cannot read UIDNEXT of %s: %r" % (folder, out))
    return int(m.group(1))

first = uidnext()
for data, _, _ in messages:
    run(["save", "-u", user, "-m", folder], data=data)
last = uidnext()
if last - first != len(messages):
    sys.exit("seed.sh: UIDNEXT moved by %d for %d messages (concurrent delivery?); flags not set"
             % (last - first, len(messages)))

by_flags = {}
for n, (_, flags, _) in enumerate(messages):
    if flags:
        by_flags.setdefault(" ".join(sorted(flags)), []).append(str(first + n))
for flags, uids in by_flags.items():
    run(["flags", "add", "-u", user, flags, "mailbox", folder, "uid", ",".join(uids)])

# INTERNALDATE = file mtime: map UIDs to file names through dovecot-uidlist and touch them.
path = run(["mailbox", "path", "-u", user, folder]).stdout.decode().strip()
names = {}
try:
    with open(os.path.join(path, "dovecot-uidlist"), encoding="utf-8", errors="replace") as f:
        next(f, None)  # header line
        for line in f:
            uid, _, rest = line.partition(" ")
            if uid.isdigit() and ":" in rest:
                names[int(uid)] = rest[rest.index(":") + 1:].strip()
except OSError as e:
    print("seed.sh: warning: cannot read dovecot-uidlist, INTERNALDATE not set: %s" % e, file=sys.stderr)
files = {}
for sub in ("new", "cur"):
    try:
        for fn in os.listdir(os.path.join(path, sub)):
            files[fn.split(":", 1)[0]] = os.path.join(path, sub, fn)
    except OSError:
        pass
dated = 0
for n, (_, _, when) in enumerate(messages):
    fp = files.get(names.get(first + n, "").split(":", 1)[0])
    if when is not None and fp:
        os.utime(fp, (when, when))
        dated += 1
# doveadm save already cached the delivery time as date.received; the cache file is only a
# cache (Dovecot rebuilds it), so drop it to make the new mtimes visible.
if dated:
    ipath = run(["mailbox", "path", "-u", user, "-t", "index", folder]).stdout.decode().strip()
    try:
        os.unlink(os.path.join(ipath, "dovecot.index.cache"))
    except FileNotFoundError:
        pass

print("seed.sh: delivered %d message(s) to %s/%s" % (len(messages), user, folder))
EOF
