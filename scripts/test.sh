#!/usr/bin/env bash
# The one command that sets up and passes all tests on a fresh Debian 12 machine:
# installs the Debian packages, builds (preset "ci": warnings are errors), runs every test
# (unit, corpus, fuzz-corpus replay, integration against real servers started by the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh ci
ctest --preset ci -j "$(nproc 2>/dev/null || echo 2)" "$@"
