#!/usr/bin/env bash
# Generate a sales mailbox and score crm-mailctl's threading and deal sorting on it.
# Usage: run_score.sh CRM_MAILCTL SEED [COUNT]     (COUNT defaults to 3000)
# The mailbox and the scratch database live in a temporary directory removed on exit.
# PYTHON names the interpreter (default python3); SCORE_ARGS adds options to score.py
# (e.g. SCORE_ARGS=--notmuch).
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 CRM_MAILCTL SEED [COUNT]" >&2
  exit 2
fi
ctl=$1
seed=$2
count=${3:-3000}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/sales-score.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$python" "$here/gen_sales_mailbox.py" --out "$dir/gen" --seed "$seed" --count "$count"
# shellcheck disable=SC2086
"$python" "$here/score.py" "$ctl" "$dir/gen" --work "$dir/work" ${SCORE_ARGS:-}
