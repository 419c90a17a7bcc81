#!/usr/bin/env bash
# The one command that sets up and passes all tests on a fresh Debian 12 machine:
# installs the Debian packages, builds (preset "ci": warnings are errors), runs every test
# (unit, corpus, fuzz-corpus replay, integration against real servers started by the tests),
# then fuzzes each libFuzzer target briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The gate (issue 16 item 6), before the build: the module rules (scripts/modules.toml, known breaks
# in scripts/modules-baseline.txt) and clang-format on the C++ lines changed (see the script).
scripts/check-modules.py
scripts/check-format.sh
# Every string of the page goes through its catalogue, complete in every language (README,
# "Languages of the page").
scripts/check-i18n.py
scripts/build.sh ci
ctest --preset ci -j "$(nproc 2>/dev/null || echo 2)" "$@"
# The fuzz targets with libFuzzer (clang 16), a short run each from the committed corpora.
FUZZ_SECONDS=${FUZZ_SECONDS:-10} scripts/fuzz.sh
