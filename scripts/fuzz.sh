#!/usr/bin/env bash
# Builds the libFuzzer targets with clang 16 (preset "fuzz") and fuzzes each for FUZZ_SECONDS
# (default 10) starting from its committed corpus (tests/fuzz/corpus/NAME, copied: new inputs
# stay in build/fuzz/corpus). A crash fails the script and leaves the reproducer in build/fuzz.
# Usage: scripts/fuzz.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mime_parse_fuzz address_fuzz threader_fuzz address_canon_fuzz
                                     imap_response_fuzz config_fuzz sanitize_fuzz http_request_fuzz)
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"
seconds=${FUZZ_SECONDS:-10}
failed=0
for t in "${targets[@]}"; do
  work=build/fuzz/corpus/$t
  rm -rf "$work"; mkdir -p "$work"
  cp -r "tests/fuzz/corpus/$t/." "$work/"
  if (cd build/fuzz && "./tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -print_final_stats=1 "corpus/$t" >"$t.log" 2>&1); then
    echo "fuzz $t: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$t.log" | grep -o '[0-9]*$') runs in ${seconds}s"
  else
    echo "fuzz $t: FAILED (see build/fuzz/$t.log)"; tail -20 "build/fuzz/$t.log"; failed=1
  fi
done
exit $failed
