#pragma once
// Adaptive verification, live: decides the fleet's verification boosts
// (adaptive::DecideBoosts) from the store — each host's current epoch, its
// recent corruption findings and the correlation analysis of every epoch —
// and publishes them on the HintBoard the ingest streams send from. It
// decides when new corruption findings were stored (the store is looked at
// every poll_interval) and every decide_interval besides, so that boosts
// lower when a suspect is confirmed, refuted or fades, and victims' end.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "collector/adaptive/hint_board.h"
#include "collector/adaptive/policy.h"
#include "collector/analysis/analysis.h"
#include "collector/store/store.h"
#include "metrics/registry.h"

namespace fscanary::collector {

struct BoostDeciderOptions {
  adaptive::PolicyOptions policy;
  analysis::AnalysisOptions analysis;
  // The store is checked for new corruption findings this often.
  std::chrono::nanoseconds poll_interval = std::chrono::seconds(10);
  // Boosts are decided again this often even when nothing new arrived.
  std::chrono::nanoseconds decide_interval = std::chrono::minutes(5);
};

// The boosts decided from what `store` holds at `now_unix_nanos`: agent id ->
// factor (> 1 only), and the decision behind them.
struct DecidedBoosts {
  std::map<std::string, double> boosts;
  adaptive::Decision decision;
};
absl::StatusOr<DecidedBoosts> DecideFromStore(store::Store& store, int64_t now_unix_nanos,
                                              const BoostDeciderOptions& options);

// Runs DecideFromStore on a thread of its own and publishes on `board`; both
// must outlive it. Exports fscanary_collector_adaptive_boosts (agents boosted
// now) and fscanary_collector_adaptive_decisions_total.
class BoostDecider {
 public:
  BoostDecider(store::Store& store, adaptive::HintBoard& board, metrics::Registry& registry,
               BoostDeciderOptions options);
  ~BoostDecider();

 private:
  void Loop();
  void Decide();

  store::Store& store_;
  adaptive::HintBoard& board_;
  const BoostDeciderOptions options_;
  metrics::Gauge* boosted_ = nullptr;
  metrics::Counter* decisions_ = nullptr;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace fscanary::collector
