#include "agent/daemon/agent_metrics.h"

#include <vector>

namespace fscanary::daemon {

using metrics::MetricFamily;
using metrics::MetricType;

void AgentMetrics::AddActivity(const std::string& target, const checker::Activity& activity) {
  std::lock_guard lock(mutex_);
  TargetTotals& totals = targets_[target];
  totals.bytes_verified += activity.bytes_verified;
  totals.bytes_written += activity.bytes_written;
  totals.entries_verified += activity.entries_verified;
  totals.io_errors += activity.io_errors;
  totals.state_records_damaged += activity.state_records_damaged;
  totals.state_records_changed += activity.state_records_changed;
  totals.blocks_newer_than_state += activity.blocks_newer_than_state;
  totals.read_latency.Merge(activity.read_latency);
}

void AgentMetrics::AddFinding(const std::string& target, const std::string& kind) {
  std::lock_guard lock(mutex_);
  ++targets_[target].findings_by_kind[kind];
}

void AgentMetrics::SetKernelLogLinesIgnored(uint64_t total) {
  std::lock_guard lock(mutex_);
  kernel_log_lines_ignored_ = total;
}

void AgentMetrics::SetBoost(double factor) {
  std::lock_guard lock(mutex_);
  boost_ = factor;
}

namespace {

// Reasons a record is quarantined for, each a series from the start.
constexpr std::string_view kQuarantineReasons[] = {"conflict", "other", "unparseable"};

MetricFamily Single(std::string name, std::string help, MetricType type, uint64_t value) {
  MetricFamily family{.name = std::move(name), .help = std::move(help), .type = type};
  family.series.push_back({.value = double(value)});
  return family;
}

void AppendKeeping(const AgentMetrics::Keeping& keeping, std::vector<MetricFamily>& families) {
  families.push_back(Single("fscanary_agent_collector_answers_ignored_total",
                            "Ranges in the collector's acknowledgements and rejections that named "
                            "records not in flight on the stream: ignored, nothing removed.",
                            MetricType::kCounter, keeping.answers_ignored));
  MetricFamily quarantined{.name = "fscanary_agent_records_quarantined_total",
                           .help =
                               "Records moved to the spool's quarantine (never sent again), "
                               "by reason.",
                           .type = MetricType::kCounter};
  std::map<std::string, uint64_t> by_reason = keeping.quarantined_by_reason;
  for (const std::string_view reason : kQuarantineReasons) by_reason[std::string(reason)] += 0;
  for (const auto& [reason, count] : by_reason) {
    quarantined.series.push_back({.labels = {{"reason", reason}}, .value = double(count)});
  }
  families.push_back(std::move(quarantined));
  families.push_back(Single("fscanary_agent_spool_quarantined_records",
                            "Records in the spool's quarantine directory.", MetricType::kGauge,
                            keeping.quarantined_records));
  families.push_back(Single("fscanary_agent_spool_read_errors_total",
                            "Reads of spooled records that failed (the records are kept and "
                            "read again later).",
                            MetricType::kCounter, keeping.spool_read_errors));
  families.push_back(Single("fscanary_agent_spool_damaged_records_total",
                            "Damaged spooled records skipped, over the spool's life.",
                            MetricType::kCounter, keeping.spool_damaged_records));
  families.push_back(Single("fscanary_agent_evidence_bytes",
                            "Bytes of evidence kept under the agent's state directory.",
                            MetricType::kGauge, keeping.evidence_bytes));
  families.push_back(Single("fscanary_agent_evidence_evicted_total",
                            "Routine evidence directories given up, oldest first, to stay under "
                            "evidence.max_bytes.",
                            MetricType::kCounter, keeping.evidence_evicted));
  families.push_back(Single("fscanary_agent_evidence_refused_total",
                            "Evidence not kept because evidence.max_bytes is held by the first "
                            "evidence of findings (the findings are still reported).",
                            MetricType::kCounter, keeping.evidence_refused));
}

}  // namespace

std::vector<MetricFamily> AgentMetrics::Collect() const {
  MetricFamily verified{.name = "fscanary_agent_verified_bytes_total",
                        .help = "Bytes this agent read back and verified, by target.",
                        .type = MetricType::kCounter};
  MetricFamily written{.name = "fscanary_agent_written_bytes_total",
                       .help = "Bytes this agent wrote, by target.",
                       .type = MetricType::kCounter};
  MetricFamily entries{.name = "fscanary_agent_verified_entries_total",
                       .help =
                           "Entries this agent checked: metadata tree entries and kernel log "
                           "lines, by target.",
                       .type = MetricType::kCounter};
  MetricFamily findings{.name = "fscanary_agent_findings_total",
                        .help = "Findings this agent reported, by target and kind.",
                        .type = MetricType::kCounter};
  MetricFamily io_errors{.name = "fscanary_agent_io_errors_total",
                         .help =
                             "Operations of this agent's own I/O that failed (writes, syncs, "
                             "reads, its state file), by target.",
                         .type = MetricType::kCounter};
  MetricFamily state_trouble{
      .name = "fscanary_agent_state_trouble_total",
      .help =
          "Trouble with a target's own state file, by target and what: damaged (records "
          "damaged when opened), changed (records read back other than written), newer "
          "(blocks carrying a generation the state never issued).",
      .type = MetricType::kCounter};
  MetricFamily latency{.name = "fscanary_agent_read_latency_seconds",
                       .help = "Latency of verification reads, by target.",
                       .type = MetricType::kHistogram};
  const std::vector<double> bounds(verify::LatencyHistogram::kBounds.begin(),
                                   verify::LatencyHistogram::kBounds.end());
  MetricFamily ignored{.name = "fscanary_agent_kernel_log_lines_ignored_total",
                       .help =
                           "Kernel log error lines not reported, by reason (unrelated_device: "
                           "the device holds no target, mounted filesystem or swap area).",
                       .type = MetricType::kCounter};
  {
    std::lock_guard lock(mutex_);
    if (kernel_log_lines_ignored_) {
      ignored.series.push_back({.labels = {{"reason", "unrelated_device"}},
                                .value = double(*kernel_log_lines_ignored_)});
    }
    for (const auto& [target, totals] : targets_) {
      const metrics::Labels labels = {{"target", target}};
      verified.series.push_back({.labels = labels, .value = double(totals.bytes_verified)});
      written.series.push_back({.labels = labels, .value = double(totals.bytes_written)});
      entries.series.push_back({.labels = labels, .value = double(totals.entries_verified)});
      io_errors.series.push_back({.labels = labels, .value = double(totals.io_errors)});
      for (const auto& [what, count] : {std::pair{"damaged", totals.state_records_damaged},
                                        std::pair{"changed", totals.state_records_changed},
                                        std::pair{"newer", totals.blocks_newer_than_state}}) {
        state_trouble.series.push_back(
            {.labels = {{"target", target}, {"what", what}}, .value = double(count)});
      }
      for (const auto& [kind, count] : totals.findings_by_kind) {
        findings.series.push_back(
            {.labels = {{"target", target}, {"kind", kind}}, .value = double(count)});
      }
      const std::vector<uint64_t> counts(totals.read_latency.counts.begin(),
                                         totals.read_latency.counts.end());
      latency.series.push_back({.labels = labels,
                                .histogram = metrics::HistogramFromBucketCounts(
                                    bounds, counts, totals.read_latency.sum_seconds)});
    }
  }
  MetricFamily spool{.name = "fscanary_agent_spool_records",
                     .help = "Records spooled and not yet acknowledged by the collector.",
                     .type = MetricType::kGauge};
  spool.series.push_back({.value = live_.spool_records ? double(live_.spool_records()) : 0.0});
  MetricFamily connected{.name = "fscanary_agent_collector_connected",
                         .help = "1 while the stream to the collector is open.",
                         .type = MetricType::kGauge};
  connected.series.push_back(
      {.value = live_.collector_connected && live_.collector_connected() ? 1.0 : 0.0});
  MetricFamily boost{.name = "fscanary_agent_verification_boost",
                     .help =
                         "The factor the collector's adaptive-verification hint speeds this "
                         "agent's schedule up by, as clamped to budget.max_boost (1: none).",
                     .type = MetricType::kGauge};
  {
    std::lock_guard lock(mutex_);
    boost.series.push_back({.value = boost_});
  }
  std::vector<MetricFamily> families = {verified,      written, entries, findings,  io_errors,
                                        state_trouble, latency, spool,   connected, boost};
  if (live_.keeping) AppendKeeping(live_.keeping(), families);
  if (!ignored.series.empty()) families.push_back(std::move(ignored));
  return families;
}

}  // namespace fscanary::daemon
