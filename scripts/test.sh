#!/usr/bin/env bash
# Installs everything, builds fscanary with warnings as errors, and runs every
# test: unit, integration (as root: loop devices) and the sanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh test

jobs=$(nproc)
echo "== build (RelWithDebInfo, -Werror)"
# -g1: line tables and function names only (backtraces, addr2line and perf
# keep file:line; no local variables or types for a debugger). Full -g costs
# this build about a sixth of its compile time and the packages strip it anyway.
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFSCANARY_WERROR=ON \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"
cmake --build build/ci -j "$jobs"

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
# -g1 here too: the sanitizers' reports still name file:line in every frame
# (-O0 inlines next to nothing) and the leak suppressions match function
# names, which -g1 keeps; about a twelfth less compile time.
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFSCANARY_WERROR=ON \
  -DFSCANARY_SANITIZE=ON -DFSCANARY_BUILD_BENCH=OFF -DFSCANARY_BUILD_INTEGRATION_TESTS=OFF \
  -DCMAKE_C_FLAGS_DEBUG=-g1 -DCMAKE_CXX_FLAGS_DEBUG=-g1
cmake --build build/asan -j "$jobs"

echo "== unit tests under the sanitizers"
# Not the integration, end-to-end, packaging and VM tests: they run the daemons
# (and package the sanitizer build's binaries); they run once, in the build
# below (the integration and end-to-end tests are not even built here).
LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" \
  ctest --test-dir build/asan --output-on-failure -j "$jobs" --timeout 600 -LE 'integration|packaging|e2e|vm'

echo "== all tests"
ctest --test-dir build/ci --output-on-failure -j "$jobs" --timeout 900
