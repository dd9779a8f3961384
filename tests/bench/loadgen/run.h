#pragma once
// One load run: the fleet connects, runs `duration_seconds` of steady load
// while the collectors are sampled, then drains; the result is printed as a
// table or JSON. The run fails (ok false) if any record was lost, rejected or
// acknowledged twice on a stream; timing never fails it.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/bench/loadgen/fleet.h"
#include "tests/bench/loadgen/probes.h"

namespace fscanary::loadgen {

struct RunOptions {
  LoadOptions load;
  // Collector processes whose CPU time and memory are read.
  std::vector<pid_t> collector_pids;
  // SQLite databases whose growth is measured.
  std::vector<std::string> db_paths;
  // Loopback host:port of each collector's /metrics.
  std::vector<std::string> metrics;
  // The schedule the database growth is extrapolated to (a real agent's).
  double day_report_interval_seconds = 60;
  // Longest wait, after connecting, for the connect storm's backlog to drain.
  double settle_seconds = 300;
  // Progress lines on stderr.
  bool verbose = true;
};

struct CollectorUsage {
  pid_t pid = 0;
  double cpu_seconds = 0;  // over the steady window
  double cpu_seconds_per_1000_agents_per_minute = 0;
  ProcessSample end;
};

struct MetricsUsage {
  std::string address;
  Scrape median;  // of three scrapes, by time
};

struct RunResult {
  RunOptions options;
  double connect_seconds = 0;
  double window_seconds = 0;  // the steady window
  double settle_seconds = 0;
  double drain_seconds = 0;
  double loadgen_cpu_seconds = 0;  // this process, over the window
  uint64_t loadgen_rss_bytes = 0;
  FleetCounts counts;  // at the end
  uint64_t acknowledged_in_window = 0;
  // Every acknowledgement's time; the quantiles leave out the records handed
  // to a stream before the window (queued behind the connect storm).
  uint64_t latency_samples = 0;
  uint64_t connect_latency_samples = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double latency_max_ms = 0;
  std::vector<CollectorUsage> collectors;
  uint64_t db_bytes_before = 0;
  uint64_t db_bytes_after = 0;
  uint64_t records_in_db_window = 0;  // acknowledged between the two sizes
  std::vector<MetricsUsage> metrics;

  uint64_t lost() const { return counts.records_pending; }
  bool ok() const;
  std::string ToJson() const;
  std::string ToTable() const;
};

// NotFound / Unavailable when a collector pid is gone before the window or
// the fleet never connected.
absl::StatusOr<RunResult> RunLoad(const RunOptions& options);

}  // namespace fscanary::loadgen
