#!/usr/bin/env bash
# Follow-ups and deal activity (issue 20): bench/followups_load.py on the COUNT-message benchmark
# database (default 100,000; bench/api-bench.sh's setup), with the daemon idle and while it
# ingests SYNC_COUNT more messages. Target: p99 under 50 ms for GET /api/v1/followups and
# GET /api/v1/deals/{id}/activity.
# Usage: bench/followups-bench.sh [COUNT] [SYNC_COUNT] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
API_LOAD=bench/followups_load.py exec bash bench/api-bench.sh "${1:-100000}" "${2:-20000}" "${3:-20}"
