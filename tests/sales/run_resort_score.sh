#!/usr/bin/env bash
# Generate a sales mailbox and score re-sorting after the CRM learns customers late
# (resort_score.py). Usage: run_resort_score.sh CRM_MAILCTL SEED [COUNT]   (COUNT: 3000)
set -euo pipefail
if [[ $# -lt 2 || $# -gt 3 ]]; then
  echo "usage: $0 CRM_MAILCTL SEED [COUNT]" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${PYTHON:-python3}
dir=$(mktemp -d "${TMPDIR:-/tmp}/resort-score.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$python" "$here/gen_sales_mailbox.py" --out "$dir/gen" --seed "$2" --count "${3:-3000}"
"$python" "$here/resort_score.py" "$1" "$dir/gen" --work "$dir/work"
