#!/usr/bin/env bash
# Installs, builds, and runs fscanary's main job on embedded defaults: a
# scratch target is written and verified, then a lost write is injected behind
# the agent's back and found.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFSCANARY_BUILD_TESTS=OFF \
  -DFSCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target fscanary-agent

agent=build/release/agent/fscanary-agent
demo=${FSCANARY_DEMO_DIR:-/var/tmp/fscanary-demo}
rm -rf "$demo"
mkdir -p "$demo"
target="$demo/scratch.img"
state="$demo/state"

echo
echo "== 1. A full write pass over a 256 MiB scratch file (every block durable, recorded)"
"$agent" write --target "$target" --size 256M --state-dir "$state"
echo
echo "== 2. Verify: every block read back with O_DIRECT and classified"
"$agent" verify --target "$target" --state-dir "$state"

echo
echo "== 3. Keep block 100 as it is now, write a second pass, then put the old block back"
echo "      (what a lost write looks like to a filesystem: the device acknowledged and dropped it)"
block_size=4096
data_start=4096
dd if="$target" of="$demo/block-100.gen1" bs=$block_size skip=$((data_start / block_size + 100)) \
  count=1 iflag=direct status=none
"$agent" write --target "$target" --state-dir "$state"
dd if="$demo/block-100.gen1" of="$target" bs=$block_size seek=$((data_start / block_size + 100)) \
  count=1 oflag=direct conv=notrunc status=none

echo
echo "== 4. Verify again: the lost write is found, re-read, and its evidence kept (exit code 1)"
set +e
"$agent" verify --target "$target" --state-dir "$state"
code=$?
set -e
echo "exit code: $code"
[ "$code" -eq 1 ] || { echo "demo: expected the lost write to be reported" >&2; exit 1; }
echo
echo "Scratch target, state and evidence are in $demo"
