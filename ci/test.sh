#!/usr/bin/env bash
# test.sh: the whole test suite on a fresh Debian bookworm machine: installs
# dependencies, configures and builds the default and asan presets, runs ctest.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
./ci/install-deps.sh
start=$(date +%s)
cmake --preset default
cmake --build --preset default
ctest --preset default
# The unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
cmake --preset asan
cmake --build --preset asan
ctest --preset asan -L 'core|cli|fuzz'
# Every fuzz target for 20 s under libFuzzer (fuzz preset); a crash fails CI and is kept in corpora/regressions/fuzz/.
ci/fuzz-campaign.sh --smoke
echo "test.sh: passed in $(( $(date +%s) - start ))s (after dependency set-up)"
