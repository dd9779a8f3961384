#pragma once
// The fleet as Prometheus sees it (docs/METRICS.md, "The collector's
// metrics"): per-host series for the hosts an operator must see by name
// (watched_hosts.h) and counts by attributes for every host, built at every
// scrape from the store and the open sessions, never kept as global series,
// so a host that expires simply stops appearing and a restart neither resets
// nor replays a counter; plus the aggregates by host attributes and the
// correlation engine's top suspects, refreshed in the background.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/daemon/fleet_epochs.h"
#include "collector/daemon/label_folding.h"
#include "collector/daemon/watched_hosts.h"
#include "collector/service/sessions.h"
#include "collector/store/store.h"
#include "metrics/collectable.h"

namespace fscanary::collector {

struct FleetMetricsOptions {
  // A host neither connected nor heard from for this long is left out.
  int64_t host_expiry_nanos = int64_t{3600} * 1'000'000'000;
  // A host neither connected nor heard from for this long counts as stale.
  int64_t stale_after_nanos = int64_t{600} * 1'000'000'000;
  // Suspects exported as gauges, best first.
  size_t max_suspects = 10;
  // Bounds on the label values agents' data makes (label_folding.h).
  LabelLimits labels;
  // Which hosts keep per-host series (watched_hosts.h).
  WatchThresholds watch;
  std::function<int64_t()> now_unix_nanos;  // default: the wall clock
};

// The slow part: from every stored epoch, the counters by host attributes and
// the suspects. Pure; the refresher runs it on the epochs FleetEpochs holds.
struct FleetAggregates {
  std::vector<metrics::MetricFamily> families;
  // Corruption findings the aggregates include, to notice when they are out
  // of date.
  uint64_t corruption_findings = 0;
  // Per label, the distinct values folded into "other".
  std::map<std::string, uint64_t> folded_label_values;
};
absl::StatusOr<FleetAggregates> ComputeFleetAggregates(
    const std::vector<store::EpochRecord>& epochs, size_t max_suspects,
    const LabelLimits& limits = {});

class FleetMetrics final : public metrics::Collectable {
 public:
  FleetMetrics(store::Store& store, const Sessions& sessions, FleetMetricsOptions options);

  // Per-host series and counts from the store now, plus the last aggregates.
  // A store error is logged and yields only the aggregates: a scrape never
  // fails half-way.
  std::vector<metrics::MetricFamily> Collect() const override;

  // Brings the aggregates up to date: reads the epochs of the hosts changed
  // since the last refresh (fleet_epochs.h), and recomputes the aggregates
  // from every epoch held when any changed (the refresher calls it).
  absl::Status Refresh();
  // Corruption findings in the store at the last scrape, and in the last
  // aggregates: the refresher refreshes early when they differ.
  bool AggregatesBehind() const;

 private:
  struct HostSeries {
    std::vector<metrics::MetricFamily> families;
    std::map<std::string, uint64_t> folded_label_values;
  };
  absl::StatusOr<HostSeries> HostFamilies() const;

  store::Store& store_;
  const Sessions& sessions_;
  const FleetMetricsOptions options_;

  // Held by Refresh(): one refresh at a time owns the epochs.
  std::mutex refresh_mutex_;
  FleetEpochs epochs_;

  mutable std::mutex mutex_;
  std::shared_ptr<const FleetAggregates> aggregates_;
  mutable uint64_t scraped_corruption_findings_ = 0;
  // Under mutex_, after an incremental refresh.
  void ReadAllIfBehind();
};

}  // namespace fscanary::collector
