#!/usr/bin/env bash
# The agent daemon's footprint on its default budget (4 MiB/s, 200 IOPS, 1% of
# a core): runs a collector and an agent on loopback for --seconds, then
# reports the agent's peak and final resident memory (VmHWM, VmRSS) and its
# CPU time as a share of one core. Usage:
#   tests/bench/agent_footprint.sh --build build/release [--seconds 120] [--size 1G]
set -euo pipefail
build=build/release
seconds=120
size=1G
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    *) echo "usage: $0 --build DIR [--seconds N] [--size SIZE]" >&2; exit 2 ;;
  esac
done
work=$(mktemp -d /var/tmp/fscanary-footprint-XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait; rm -rf "$work"' EXIT
printf 'listen: 127.0.0.1:%s\nstate_dir: %s/collector\nmetrics:\n  listen: ""\n' "$port" "$work" \
  >"$work/collector.yaml"
cat >"$work/agent.yaml" <<YAML
agent_id: footprint
state_dir: $work/agent
collector:
  address: 127.0.0.1:$port
targets:
  - name: scratch
    path: $work/scratch.img
    size: $size
    schedule:
      write_interval: 10s
      cold_read_interval: 30s
      scrub_interval: 10m
YAML
"$build/collector/daemon/fscanary-collector" --config "$work/collector.yaml" 2>"$work/collector.log" &
pids+=($!)
"$build/agent/fscanary-agent" run --config "$work/agent.yaml" 2>"$work/agent.log" &
agent=$!
pids+=($agent)
sleep 2
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$agent/stat"; }
start_ticks=$(cpu_ticks)
start=$(date +%s.%N)
sleep "$seconds"
end_ticks=$(cpu_ticks)
end=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
python3 - "$start" "$end" "$start_ticks" "$end_ticks" "$ticks" "$hwm" "$rss" <<'PY'
import sys
start, end, t0, t1, hz, hwm, rss = map(float, sys.argv[1:])
cpu = (t1 - t0) / hz
print(f"agent over {end - start:.0f} s: CPU {cpu:.2f} s = {100 * cpu / (end - start):.2f}% of one core, "
      f"peak RSS {hwm / 1024:.1f} MiB, RSS {rss / 1024:.1f} MiB")
PY
