#!/usr/bin/env bash
# Import benchmark: messages/s, MB/s and peak RSS of `crm-mailctl import` next to `notmuch new`
# on the same messages in the same run, for
#   1. a generated Maildir of 20,000 realistic messages (bench/gen_maildir.py), and
#   2. the real list corpora (fedora-devel, sling, ponymail, LKML), split into one Maildir.
# Usage: bench/import-bench.sh [COUNT]   (builds the release preset first; needs notmuch,
# /usr/bin/time and python3: scripts/install-deps.sh installs them)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
scripts/install-deps.sh >/dev/null
[ -x /usr/bin/time ] || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
scripts/build.sh release >/dev/null
ctl=$PWD/build/release/src/ctl/crm-mailctl
work=${BENCH_DIR:-$PWD/build/bench}
mkdir -p "$work"

if [ ! -d "$work/gen-$count/cur" ]; then
  rm -rf "$work/gen-$count" "$work/gen-$count-csv"
  python3 bench/gen_maildir.py --out "$work/gen-$count" --count "$count" --seed 1 --csv-dir "$work/gen-$count-csv"
fi

if [ ! -d "$work/real/cur" ]; then
  rm -rf "$work/real"
  python3 - "$work/real" tests/data/corpora <<'PY'
import gzip, mailbox, os, sys, shutil
dst, corpora = sys.argv[1], sys.argv[2]
for d in ("cur", "new", "tmp"):
    os.makedirs(os.path.join(dst, d), exist_ok=True)
n = 0
def put(data):
    global n
    with open(os.path.join(dst, "cur", "%06d:2," % n), "wb") as f:
        f.write(data)
    n += 1
tmp = os.path.join(dst, "fedora.mbox")
with gzip.open(os.path.join(corpora, "fedora-devel-2010-01/2010-January.txt.gz")) as g, open(tmp, "wb") as o:
    shutil.copyfileobj(g, o)
mboxes = [tmp]
for sub in ("sling-mail-archive/mbox", "ponymail-asf/corpus"):
    base = os.path.join(corpora, sub)
    mboxes += [os.path.join(base, f) for f in sorted(os.listdir(base)) if f.endswith(".mbox")]
for m in mboxes:
    mb = mailbox.mbox(m, create=False)
    for key in mb.iterkeys():
        put(mb.get_bytes(key))
os.remove(tmp)
lk = os.path.join(corpora, "notmuch-lkml")
for root, _, files in os.walk(lk):
    if "expected" in root or "LICENSES" in root:
        continue
    for f in sorted(files):
        if f != "MANIFEST.md":
            put(open(os.path.join(root, f), "rb").read())
print(n, "messages", file=sys.stderr)
PY
fi

measure() { # cmd... -> prints "seconds peak_kb"
  /usr/bin/time -o "$work/time.out" -f "%e %M" "$@" >"$work/cmd.out" 2>&1 || {
    echo "FAILED: $*" >&2; tail -5 "$work/cmd.out" >&2; }
  tail -1 "$work/time.out"
}

row() { # name dir
  local name=$1 dir=$2
  local n bytes mb
  n=$(find "$dir/cur" "$dir/new" -type f | wc -l)
  bytes=$(find "$dir/cur" "$dir/new" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1048576}')

  rm -f "$work/bench.db" "$work/bench.db-wal" "$work/bench.db-shm"
  "$ctl" --db "$work/bench.db" db migrate >/dev/null
  local owner=()
  if [ -d "$dir-csv" ]; then
    for k in users companies contacts deals; do "$ctl" --db "$work/bench.db" crm import $k "$dir-csv/$k.csv" >/dev/null; done
    owner=(--owner 1)
  fi
  read -r s_crm rss_crm < <(measure "$ctl" --db "$work/bench.db" import "${owner[@]}" "$dir")

  rm -rf "$work/nm-db"; mkdir -p "$work/nm-db"
  printf '[database]\npath=%s\nmail_root=%s\n[new]\ntags=\nignore=\n[maildir]\nsynchronize_flags=false\n' \
    "$work/nm-db" "$dir" >"$work/nm.conf"
  read -r s_nm rss_nm < <(measure notmuch --config="$work/nm.conf" new --quiet)

  nm_rate[$name]=$(awk -v n="$n" -v s="$s_nm" 'BEGIN {printf "%.0f", n/s}')
  awk -v name="$name" -v n="$n" -v mb="$mb" -v sc="$s_crm" -v rc="$rss_crm" -v sn="$s_nm" -v rn="$rss_nm" 'BEGIN {
    printf "%-22s %7d msgs %7.1f MB | crm-mailctl %6.2fs %8.0f msg/s %6.1f MB/s peak %5.1f MB | notmuch %6.2fs %7.0f msg/s peak %5.1f MB | speed-up %.1fx\n",
      name, n, mb, sc, n/sc, mb/sc, rc/1024, sn, n/sn, rn/1024, sn/sc }'
}

echo "crm-mail import benchmark on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
declare -A nm_rate
row "generated-$count" "$work/gen-$count"
row "real-list-corpora" "$work/real"

# The per-message steps alone, on one core (tests/bench/pipeline_bench): GMime parsing bounds
# what the import can reach on this machine whatever the writer does.
bench_bin=$PWD/build/release/tests/bench/pipeline_bench
for set in "generated-$count:$work/gen-$count" "real-list-corpora:$work/real"; do
  name=${set%%:*} dir=${set#*:}
  "$bench_bin" "$dir" --benchmark_format=json >"$work/pipeline-$name.json" 2>/dev/null || {
    echo "pipeline_bench failed on $dir" >&2; continue; }
  python3 - "$work/pipeline-$name.json" "$name" "$(nproc)" "${nm_rate[$name]}" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
name, cores, nm = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
b = {x["name"].split("/")[0]: x for x in data["benchmarks"]}
def rate(k):
    return b[k]["items_per_second"], b[k]["bytes_per_second"] / 1048576
p, pmb = rate("BM_Parse"); h, hmb = rate("BM_Sha256"); z, zmb = rate("BM_PackBlob")
per_msg = 1 / p + 1 / h + 1 / z
bound = cores / per_msg
print("%-22s per core: parse %6.0f msg/s (%5.1f MB/s), sha256 %5.0f MB/s, zstd %5.0f MB/s"
      " -> at most %6.0f msg/s on %d cores = %.1fx notmuch, before any write"
      % (name, p, pmb, hmb, zmb, bound, cores, bound / nm))
PY
done
