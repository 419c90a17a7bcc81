#!/usr/bin/env bash
# Thread-list paging (issue 19): one deal of the COUNT-message benchmark database (default
# 100,000; bench/api-bench.sh's setup) is given 12,000 threads, and bench/paging_load.py walks it a
# page of 100 at a time to its end (and the unsorted queue), with the daemon idle and while it
# ingests SYNC_COUNT more messages. Target: a page beyond the 10,000th thread under 50 ms at p99.
# Usage: bench/paging-bench.sh [COUNT] [SYNC_COUNT] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
# The deal with the most threads takes 12,000 more (deal_stats follows by trigger).
export API_PREP_SQL="UPDATE thread_deals SET deal_id = (SELECT deal_id FROM thread_deals GROUP BY deal_id ORDER BY count(*) DESC, deal_id LIMIT 1) WHERE thread_id IN (SELECT thread_id FROM thread_deals WHERE manual = 0 ORDER BY thread_id LIMIT 12000)"
API_LOAD=bench/paging_load.py exec bash bench/api-bench.sh "${1:-100000}" "${2:-20000}" "${3:-20}"
