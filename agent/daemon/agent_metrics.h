#pragma once
// The agent's own Prometheus metrics (docs/METRICS.md, "The agent's own
// metrics"), served on a local port when metrics.listen is set: what each
// target verified, wrote and found, its read latency, and the spool and
// connection state. Built at scrape time from totals the daemon adds to.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "checkers/checker/checker.h"
#include "metrics/collectable.h"

namespace fscanary::daemon {

class AgentMetrics final : public metrics::Collectable {
 public:
  // What the agent kept aside or gave up: answers from the collector it
  // ignored, records it quarantined, spool reads and damage, evidence.
  struct Keeping {
    // Ranges in acknowledgements and rejections naming records not in flight.
    uint64_t answers_ignored = 0;
    // Records moved to the spool's quarantine since start, by reason.
    std::map<std::string, uint64_t> quarantined_by_reason;
    // Records in the quarantine directory now.
    uint64_t quarantined_records = 0;
    uint64_t spool_read_errors = 0;
    // Over the spool's life.
    uint64_t spool_damaged_records = 0;
    // The evidence store: bytes kept, routine evidence evicted and evidence
    // refused (quota full of first evidence) since start.
    uint64_t evidence_bytes = 0;
    uint64_t evidence_evicted = 0;
    uint64_t evidence_refused = 0;
  };
  struct Live {
    std::function<uint64_t()> spool_records;
    std::function<bool()> collector_connected;
    std::function<Keeping()> keeping;
  };
  explicit AgentMetrics(Live live) : live_(std::move(live)) {}

  // Thread-safe.
  void AddActivity(const std::string& target, const checker::Activity& activity);
  void AddFinding(const std::string& target, const std::string& kind);
  // The kernel log watcher's count of lines about devices that hold none of
  // the host's data (KernelLogWatcher::lines_ignored()); exported from the
  // first call on.
  void SetKernelLogLinesIgnored(uint64_t total);
  // The verification boost in force (1: the configured schedule).
  void SetBoost(double factor);

  std::vector<metrics::MetricFamily> Collect() const override;

 private:
  struct TargetTotals {
    uint64_t bytes_verified = 0;
    uint64_t bytes_written = 0;
    uint64_t entries_verified = 0;
    uint64_t io_errors = 0;
    // Checker::Activity's state trouble: damaged, changed, newer.
    uint64_t state_records_damaged = 0;
    uint64_t state_records_changed = 0;
    uint64_t blocks_newer_than_state = 0;
    std::map<std::string, uint64_t> findings_by_kind;
    verify::LatencyHistogram read_latency;
  };
  const Live live_;
  mutable std::mutex mutex_;
  std::map<std::string, TargetTotals> targets_;
  std::optional<uint64_t> kernel_log_lines_ignored_;
  double boost_ = 1;
};

}  // namespace fscanary::daemon
