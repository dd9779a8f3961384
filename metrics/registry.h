#pragma once
// The set of metric families a process maintains and exposes: counters, gauges
// and histograms registered by name, collected together at scrape time.

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/collectable.h"
#include "metrics/counter.h"
#include "metrics/family.h"
#include "metrics/gauge.h"
#include "metrics/histogram.h"

namespace fscanary::metrics {

// Thread-safe. Families live as long as the registry; the pointers the Add*
// functions return stay valid until then. Names are checked when a family is
// registered, so a bad or clashing name is an error at start-up instead of a
// broken scrape: InvalidArgument for a name that is not a metric name, a
// counter not ending in _total (or another type ending in it), HELP text that
// is empty or not UTF-8, or bad histogram bounds; AlreadyExists when the name,
// or one of the sample names a histogram writes (_bucket, _sum, _count), is
// taken.
class Registry final : public Collectable {
 public:
  absl::StatusOr<Family<Counter>*> AddCounter(std::string_view name, std::string_view help);
  absl::StatusOr<Family<Gauge>*> AddGauge(std::string_view name, std::string_view help);
  absl::StatusOr<Family<Histogram>*> AddHistogram(std::string_view name, std::string_view help,
                                                  std::vector<double> upper_bounds);

  // Every family registered, in registration order (the serializer sorts).
  std::vector<MetricFamily> Collect() const override;

 private:
  // Checks `name` and `help` for a family of `type` and claims its sample
  // names. Called with mutex_ held.
  absl::Status Claim(std::string_view name, std::string_view help, MetricType type);

  template <typename T>
  absl::StatusOr<Family<T>*> Add(std::string_view name, std::string_view help,
                                 typename T::Config config);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Collectable>> families_;
  std::set<std::string, std::less<>> claimed_names_;
};

}  // namespace fscanary::metrics
