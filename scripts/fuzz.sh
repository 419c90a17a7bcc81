#!/usr/bin/env bash
# Builds the libFuzzer targets with clang 16 (preset "fuzz") and fuzzes each for FUZZ_SECONDS
# (default 10) starting from its committed corpus (tests/fuzz/corpus/NAME, copied: new inputs
# stay in build/fuzz/corpus). A crash fails the script and leaves the reproducer in build/fuzz.
# Every target and the project's libraries are instrumented (-fsanitize=fuzzer-no-link) and run
# under ASan and UBSan; each line ends with the coverage reached ("cov: edges ft: features").
# A longer soak: FUZZ_SECONDS=600 scripts/fuzz.sh
# Usage: scripts/fuzz.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(mime_parse_fuzz address_fuzz threader_fuzz address_canon_fuzz
                                     imap_response_fuzz config_fuzz sanitize_fuzz http_request_fuzz
                                     csv_fuzz smtp_reply_fuzz api_body_fuzz)
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
    runs=$(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "build/fuzz/$t.log" | grep -o '[0-9]*$')
    # The last status line: "#N DONE cov: C ft: F corp: ..." (edges and features reached).
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "build/fuzz/$t.log" | tail -1)
    echo "fuzz $t: ok, $runs runs in ${seconds}s, ${cov:-cov: ?}"
  else
    echo "fuzz $t: FAILED (see build/fuzz/$t.log)"; tail -20 "build/fuzz/$t.log"; failed=1
  fi
done
exit $failed
