#pragma once
// Serves the correlation analysis from results computed at most once per
// interval: a flood of Analyze queries costs one read of every host epoch and
// one analysis per distinct request per interval, on one thread, instead of
// one each, so scrapes and ingest keep the store's readers and the CPU.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/fleet/host_attributes.h"
#include "collector/store/store.h"
#include "fscanary/v1/query.pb.h"
#include "metrics/registry.h"

namespace fscanary::collector {

struct AnalysisCacheOptions {
  // A result (and the fleet read from the store) is served this long.
  std::chrono::nanoseconds interval = std::chrono::seconds(30);
  // Distinct requests whose results are kept; the oldest result goes first.
  size_t max_entries = 64;
};

// Thread-safe. Computations run one at a time under one lock: a query that
// arrives while the same request is being computed waits and gets that
// result. Errors are not kept: the next query computes again. Counts the
// analyses it computes in fscanary_collector_analyses_computed_total.
class AnalysisCache {
 public:
  AnalysisCache(store::Store& store, metrics::Registry& registry,
                AnalysisCacheOptions options = {});

  // InvalidArgument for options out of range (named), or the store's error.
  // A suspect whose epochs with events match a known corruption bug names it
  // in its explanation. The report ends with fix confirmation for every
  // change of attributes between consecutive epochs of a host, as
  // `fscanary analyze --input` reports it (analysis/analyze_output.h).
  absl::StatusOr<v1::AnalyzeResponse> Analyze(const v1::AnalyzeRequest& request);
  // The hosts on known corruption bugs, from the same read of the epochs.
  absl::StatusOr<v1::KnownBugsResponse> KnownBugs();

 private:
  struct Entry {
    std::chrono::steady_clock::time_point computed;
    v1::AnalyzeResponse response;
  };
  // The epochs as read from the store, and the fleet built from them.
  struct FleetRead {
    std::vector<store::EpochRecord> epochs;
    fleet::BuiltFleet built;
  };
  absl::StatusOr<std::shared_ptr<const FleetRead>> Fleet(std::chrono::steady_clock::time_point now);

  store::Store& store_;
  const AnalysisCacheOptions options_;
  metrics::Counter* computed_ = nullptr;

  std::mutex mutex_;
  // By the request's deterministic encoding.
  std::map<std::string, Entry> entries_;
  std::shared_ptr<const FleetRead> fleet_;
  std::chrono::steady_clock::time_point fleet_read_;
  std::optional<v1::KnownBugsResponse> known_bugs_;
  std::chrono::steady_clock::time_point known_bugs_computed_;
};

}  // namespace fscanary::collector
