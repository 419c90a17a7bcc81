#!/usr/bin/env bash
# PostgreSQL bulk-write benchmark: 10,000 message-shaped rows written one by one (a commit each),
# one by one in one transaction, in one pipeline, and with COPY, into a throwaway PostgreSQL 15 run
# with its default durability (fsync on, synchronous_commit on), over TCP on 127.0.0.1.
# Usage: bench/pg-bench.sh [ROWS] [BUILD_DIR]   (BUILD_DIR defaults to build/ci; builds pg_bench)
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-10000}
build=${2:-build/ci}
flock /tmp/crm-build.lock cmake --build "$build" -j2 --target pg_bench >/dev/null
work=$(mktemp -d /tmp/crm-pg-bench.XXXXXX)
trap 'tests/integration/postgres/pg.sh stop "$work" >/dev/null; rm -rf "$work"' EXIT
tests/integration/postgres/pg.sh start "$work" --durable >/dev/null
"$build/tests/bench/pg_bench" "$(cat "$work/url")" "$rows"
