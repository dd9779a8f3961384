#!/usr/bin/env bash
# Installs, builds, and boots a small fleet in a box (tests/vm): two Debian
# guests under QEMU with the fscanary-agent .deb of this tree, a collector,
# Prometheus and Alertmanager on loopback. Corrupts merged requests beneath
# the guest on virtio-scsi with scheduler `none` (the shape of kernel bugzilla
# 201685) and shows the finding, the correlation and the page.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh test
# The build scripts/demo.sh makes; cpack packages what `all` builds there.
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFSCANARY_BUILD_TESTS=OFF \
  -DFSCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j "$(nproc)"
exec /usr/bin/python3 tests/vm/vm_suite.py --build build/release --demo
