#include "collector/leader/leadership.h"

#include <string>

#include "spdlog/spdlog.h"

namespace fscanary::collector {

bool Leadership::Poll() {
  const absl::StatusOr<bool> polled = lock_->Poll();
  if (!polled.ok()) {
    if (!failing_) {
      spdlog::warn("leader lock: {}; not the leader until it can be polled",
                   std::string(polled.status().message()));
    }
    failing_ = true;
  } else {
    failing_ = false;
  }
  const bool leader = polled.ok() && *polled;
  if (leader_.exchange(leader) != leader) {
    if (leader) {
      spdlog::info("leader: this collector exports the fleet-level series and runs retention");
    } else {
      spdlog::warn("no longer the leader: another collector exports the fleet-level series");
    }
  }
  return leader;
}

std::vector<metrics::MetricFamily> LeaderOnly::Collect() const {
  const bool leader = leadership_.is_leader();
  std::vector<metrics::MetricFamily> families;
  if (leader) families = fleet_->Collect();
  metrics::MetricFamily leader_family{
      .name = "fscanary_collector_leader",
      .help =
          "1 while this collector is the fleet's leader: it exports the fleet-level series "
          "and runs retention.",
      .type = metrics::MetricType::kGauge};
  leader_family.series.push_back({.value = leader ? 1.0 : 0.0});
  families.push_back(std::move(leader_family));
  return families;
}

}  // namespace fscanary::collector
