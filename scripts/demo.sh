#!/usr/bin/env bash
# Installs, builds, and runs fscanary's main job on embedded defaults, on this
# machine and loopback only: a collector, an agent daemon verifying a scratch
# file, corruption injected behind the agent's back, and the fleet view an SRE
# gets (hosts, findings with evidence, correlation, Prometheus metrics).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh build
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DFSCANARY_BUILD_TESTS=OFF \
  -DFSCANARY_BUILD_BENCH=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target fscanary-agent fscanary-collector fscanary

agent=build/release/agent/fscanary-agent
collector=build/release/collector/daemon/fscanary-collector
cli=build/release/collector/cli/fscanary
demo=${FSCANARY_DEMO_DIR:-/var/tmp/fscanary-demo}
port=${FSCANARY_DEMO_PORT:-17420}
metrics_port=${FSCANARY_DEMO_METRICS_PORT:-19420}
rm -rf "$demo"
mkdir -p "$demo/agent"
target="$demo/scratch.img"
# Queries on the collector's listener need an operator token; the demo asks
# its admin listener, a unix socket only this machine reaches.
export FSCANARY_COLLECTOR=unix:$demo/admin.sock

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Polls "$@" until it succeeds, for at most $1 seconds.
wait_for() {
  local seconds=$1
  shift
  for ((i = 0; i < seconds * 10; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "demo: timed out waiting for: $*" >&2
  return 1
}

cat >"$demo/collector.yaml" <<YAML
listen: 127.0.0.1:$port
admin_listen: unix:$demo/admin.sock
state_dir: $demo/collector
metrics:
  listen: 127.0.0.1:$metrics_port
YAML
cat >"$demo/agent.yaml" <<YAML
agent_id: demo-vm-1
state_dir: $demo/agent
collector:
  address: 127.0.0.1:$port
report_interval: 2s
heartbeat_interval: 2s
# Off here: this machine's kernel log (its boot backlog) would add findings of
# its own to the block corruptions the demo injects.
kernel_log:
  enabled: false
targets:
  - name: scratch
    path: $target
    size: 64M
    schedule:
      write_interval: 2s
      cold_read_interval: 3s
      scrub_interval: 8s
YAML

echo "== 1. A full write pass over a 64 MiB scratch file (every block durable, recorded)"
"$agent" write --target "$target" --size 64M --state-dir "$demo/agent/targets"

echo
echo "== 2. The collector (SQLite store, gRPC on 127.0.0.1:$port, metrics on :$metrics_port)"
"$collector" --config "$demo/collector.yaml" 2>"$demo/collector.log" &
pids+=($!)
wait_for 30 "$cli" hosts

echo "== 3. The agent daemon: writes, reads back, scrubs; streams to the collector"
"$agent" run --config "$demo/agent.yaml" 2>"$demo/agent.log" &
pids+=($!)
wait_for 30 bash -c "'$cli' hosts | grep -q '^demo-vm-1 .* yes '"
"$cli" hosts

echo
echo "== 4. Corrupt 8 blocks behind the agent's back (bytes overwritten in place)"
for block in 100 900 1700 2500 3300 4100 4900 5700; do
  printf 'CORRUPTED-BY-THE-DEMO' | dd of="$target" bs=1 seek=$(((block + 1) * 4096 + 1000)) \
    conv=notrunc status=none
done
# One line per finding carries its kind ("kind": "CHECKSUM_MISMATCH").
wait_for 60 bash -c "[ \$('$cli' findings --json | grep -c 'kind.: .CHECKSUM_MISMATCH') -ge 8 ]"
"$cli" findings

echo
echo "== 5. The host as the collector knows it: facts by epoch, findings with evidence"
# (Through a file: `head` closing the pipe early would end the script.)
"$cli" host demo-vm-1 >"$demo/host.txt"
head -n 16 "$demo/host.txt"

echo
echo "== 6. Correlation over the fleet (one host here: nothing to compare it with)"
"$cli" analyze --collector "$FSCANARY_COLLECTOR" >"$demo/analyze.txt"
head -n 8 "$demo/analyze.txt"

echo
echo "== 7. What Prometheus scrapes (and would page on: fscanary_host_findings_total went up)"
exec 3<>"/dev/tcp/127.0.0.1/$metrics_port"
printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
grep -E '^fscanary_(host_findings_total|host_up|hosts|agents_connected|findings_total)' <&3 || true
exec 3>&-

echo
echo "Collector state, agent state, evidence and logs are in $demo"
