#!/usr/bin/env bash
# Installs everything, builds fscanary with warnings as errors, and runs every
# test: unit, integration (root: loop devices, /dev/kmsg) and end-to-end.
# Also builds and runs the unit tests under AddressSanitizer/UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh test

jobs=$(nproc)
cmake -S . -B build/ci -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFSCANARY_WERROR=ON
cmake --build build/ci -j "$jobs"
ctest --test-dir build/ci --output-on-failure -j "$jobs" --timeout 600
