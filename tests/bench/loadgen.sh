#!/usr/bin/env bash
# Starts a fscanary-collector (SQLite, a temporary directory, loopback) from a
# build directory, runs fscanary-loadgen against it and prints the results.
# Builds nothing. See tests/bench/README.md, "loadgen.sh".
#
#   tests/bench/loadgen.sh --build build/dev --agents 1000 --duration 60 \
#     [--dir /var/tmp] [--no-auth] [--synchronous full|normal] [--check] \
#     [--collector-build DIR] [--max-streams N] [--collectors N] [--postgres] [--no-scrape] \
#     [-- more fscanary-loadgen options, e.g. --report-interval 6 --json]
#
# --collector-build: the collector binary of another build (an anchor to
# compare against); --max-streams: limits.max_streams (default 2 x agents,
# at most 10,000); --collectors N: N collectors side by side, the agents
# spread over them; --postgres: on one PostgreSQL server the script starts
# (the build's postgres_test_server), instead of SQLite; --no-scrape: no
# /metrics scrape (past about 30,000 hosts one takes longer than the load
# generator waits).
#
# --check: the CI run. The results are read as JSON and the script fails
# unless every record was acknowledged exactly once, none lost, every field is
# present, every kind of event happened (heartbeats, findings, backlog
# replays, reconnects: give rates that make them certain) and the database
# holds every record made, once; no timing is checked.
set -euo pipefail

build=""
agents=1000
duration=60
dir="${TMPDIR:-/tmp}"
auth=1
check=0
synchronous=full
collector_build=""
max_streams=""
collectors=1
postgres=0
scrape=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --agents) agents="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --no-auth) auth=0; shift ;;
    --synchronous) synchronous="$2"; shift 2 ;;
    --check) check=1; shift ;;
    --collector-build) collector_build="$2"; shift 2 ;;
    --max-streams) max_streams="$2"; shift 2 ;;
    --collectors) collectors="$2"; shift 2 ;;
    --postgres) postgres=1; shift ;;
    --no-scrape) scrape=0; shift ;;
    --) shift; break ;;
    *) echo "loadgen.sh: unknown option $1 (loadgen options go after --)" >&2; exit 2 ;;
  esac
done
collector="${collector_build:-$build}/collector/daemon/fscanary-collector"
loadgen="$build/tests/bench/loadgen/fscanary-loadgen"
postgres_server="$build/tests/lib/postgres_test_server"
binaries=("$collector" "$loadgen")
(( postgres )) && binaries+=("$postgres_server")
for binary in "${binaries[@]}"; do
  [[ -x "$binary" ]] || { echo "loadgen.sh: $binary is not built (--build DIR)" >&2; exit 2; }
done

# Every stream is a socket on each side, unless multiplexed (loadgen --channels).
ulimit -n "$(ulimit -Hn)"
work="$(mktemp -d "$dir/fscanary-loadgen.XXXXXX")"
chmod 755 "$work"  # PostgreSQL runs as the unprivileged user postgres
collector_pids=()
cleanup() {
  for pid in "${collector_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  (( postgres )) && "$postgres_server" stop "$work/postgres" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

if [[ -z "$max_streams" ]]; then
  max_streams=$(( agents * 2 > 4096 ? agents * 2 : 4096 ))
  (( max_streams > 10000 )) && max_streams=10000
fi
dsn=""
if (( postgres )); then
  "$postgres_server" start "$work/postgres" >&2
  dsn="host=$(cat "$work/postgres") user=postgres dbname=postgres"
fi
if (( auth )); then
  "$loadgen" --agents "$agents" --write-tokens "$work/tokens"
  chmod 600 "$work/tokens"
fi

collector_args=()
for (( c = 0; c < collectors; ++c )); do
  {
    echo "listen: 127.0.0.1:0"
    echo "state_dir: $work/state$c"
    echo "store:"
    if (( postgres )); then
      echo "  backend: postgres"
      echo "  postgres:"
      echo "    dsn: \"$dsn\""
    else
      echo "  synchronous: $synchronous"
    fi
    echo "metrics:"
    echo "  listen: 127.0.0.1:0"
    echo "limits:"
    echo "  max_streams: $max_streams"
    if (( auth )); then
      echo "tokens_file: $work/tokens"
      echo "require_auth: true"
    fi
  } > "$work/collector$c.yaml"
  "$collector" --config "$work/collector$c.yaml" > "$work/collector$c.log" 2>&1 &
  pid=$!
  collector_pids+=("$pid")
  port=""
  metrics_port=""
  for _ in $(seq 300); do
    port="$(sed -nE 's/.*fscanary-collector \S+ listening on \S+ \(port ([0-9]+)\).*/\1/p' "$work/collector$c.log" | head -1)"
    metrics_port="$(sed -nE 's/.*metrics on \S+ \(port ([0-9]+)\).*/\1/p' "$work/collector$c.log" | head -1)"
    [[ -n "$port" && -n "$metrics_port" ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -z "$port" || -z "$metrics_port" ]]; then
    echo "loadgen.sh: collector $c did not start; its log:" >&2
    cat "$work/collector$c.log" >&2
    exit 1
  fi
  collector_args+=(--collector "127.0.0.1:$port" --collector-pid "$pid")
  (( scrape )) && collector_args+=(--metrics "127.0.0.1:$metrics_port")
  (( postgres )) || collector_args+=(--db-path "$work/state$c/collector.db")
done
auth_args=()
(( auth )) && auth_args=(--tokens-file "$work/tokens")

args=(--agents "$agents" --duration "$duration" "${collector_args[@]}" "${auth_args[@]}")
status=0
if (( check )); then
  "$loadgen" "${args[@]}" "$@" --json > "$work/result.json" || status=$?
  cat "$work/result.json"
  python3 - "$work/result.json" <<'PY' || status=1
import json, sys
result = json.load(open(sys.argv[1]))
fields = {
    "": ["agents", "addresses", "duration_seconds", "connect_seconds", "settle_seconds",
         "drain_seconds", "loadgen",
         "report_interval_seconds", "heartbeat_interval_seconds", "records", "heartbeats",
         "backlog_bursts", "streams", "acknowledged_records_per_second", "ack_latency_ms",
         "collectors", "database", "metrics", "ok"],
    "records": ["sent", "acknowledged", "lost", "rejected", "duplicate_acks", "unexpected_acks",
                "written_with_resends", "reports", "findings"],
    "streams": ["opened", "planned_reconnects", "failures"],
    "ack_latency_ms": ["p50", "p99", "max", "samples"],
    "database": ["paths", "bytes_before", "bytes_after", "bytes_per_record",
                 "bytes_per_host_per_day", "bytes_per_host_per_day_at_report_interval"],
}
missing = [f"{part}.{key}".lstrip(".") for part, keys in fields.items()
           for key in keys if key not in (result[part] if part else result)]
for key in ["pid", "cpu_seconds", "cpu_seconds_per_1000_agents_per_minute", "rss_mib",
            "peak_rss_mib", "threads"]:
    if not result["collectors"] or key not in result["collectors"][0]:
        missing.append("collectors[0]." + key)
for key in ["address", "bytes", "series", "scrape_seconds"]:
    if not result["metrics"] or key not in result["metrics"][0]:
        missing.append("metrics[0]." + key)
problems = [f"missing field {name}" for name in missing]
records = result["records"]
if records["sent"] == 0:
    problems.append("no record was sent")
if records["acknowledged"] != records["sent"]:
    problems.append(f"{records['sent']} records sent, {records['acknowledged']} acknowledged")
for key in ["lost", "rejected", "duplicate_acks", "unexpected_acks"]:
    if records[key] != 0:
        problems.append(f"{records[key]} records {key}")
for name, count in [("heartbeats", result["heartbeats"]), ("findings", records["findings"]),
                    ("backlog bursts", result["backlog_bursts"]),
                    ("planned reconnects", result["streams"]["planned_reconnects"])]:
    if count == 0:
        problems.append(f"no {name} in the run (--check wants every kind of event)")
if result["streams"]["opened"] < result["agents"]:
    problems.append("not every agent opened a stream")
if result["ack_latency_ms"]["samples"] != records["acknowledged"]:
    problems.append("a latency sample per acknowledged record is missing")
if not result["ok"]:
    problems.append("the load generator reports a failure")
for problem in problems:
    print("loadgen.sh --check:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
else
  "$loadgen" "${args[@]}" "$@" || status=$?
fi

# The collectors must still be there, and stop cleanly.
for (( c = 0; c < collectors; ++c )); do
  pid="${collector_pids[$c]}"
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "loadgen.sh: collector $c died during the run; its log's end:" >&2
    tail -20 "$work/collector$c.log" >&2
    exit 1
  fi
  kill -TERM "$pid"
  collector_status=0
  wait "$pid" || collector_status=$?
  if (( collector_status != 0 )); then
    echo "loadgen.sh: collector $c exited $collector_status on SIGTERM; its log's end:" >&2
    tail -20 "$work/collector$c.log" >&2
    exit 1
  fi
done
collector_pids=()

# The acknowledgements are the collector's word; the database is the fact.
# Every record the fleet sent is stored, once: each (host, sequence) in the
# ledger, each report and finding row once, as many as were made.
if (( check && !postgres && collectors == 1 )); then
  python3 - "$work/result.json" "$work/state0/collector.db" <<'PY' || status=1
import json, sqlite3, sys
result = json.load(open(sys.argv[1]))["records"]
db = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
def one(sql):
    return db.execute(sql).fetchone()[0]
stored = {
    "ledger entries": (one("SELECT count(*) FROM records"), result["sent"]),
    "reports": (one("SELECT count(*) FROM reports"), result["reports"]),
    "findings": (one("SELECT count(*) FROM findings"), result["findings"]),
}
problems = [f"{count} {name} stored for {made} made" for name, (count, made) in stored.items()
            if count != made]
for table in ["reports", "findings"]:
    twice = one(f"SELECT count(*) FROM (SELECT 1 FROM {table} GROUP BY host_id, sequence "
                "HAVING count(*) > 1)")
    if twice:
        problems.append(f"{twice} (host, sequence) stored more than once in {table}")
for problem in problems:
    print("loadgen.sh --check:", problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
fi
exit "$status"
