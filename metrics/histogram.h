#pragma once
// A distribution of observations (latencies, sizes) in fixed buckets: the
// value of one series of a histogram family.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/metric_family.h"

namespace fscanary::metrics {

// Thread-safe and lock-free: Observe() is a binary search over the bounds and
// two atomic adds (the bucket, the sum). Buckets count observations
// individually and are summed at collection, so `le="+Inf"` always equals
// `_count` even while other threads observe; `_sum` may run ahead or behind by
// the observations in flight.
class Histogram {
 public:
  struct Config {
    // Finite, strictly increasing upper bounds, shared by every series of a
    // family. Made by CheckedBucketBounds().
    std::shared_ptr<const std::vector<double>> upper_bounds;
  };
  static constexpr MetricType kType = MetricType::kHistogram;

  explicit Histogram(const Config& config);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` in the first bucket whose bound is >= value. NaN lands in
  // the +Inf bucket only (and makes the sum NaN), as in the Go client.
  void Observe(double value);

  HistogramData Snapshot() const;
  Series Collect() const { return {.histogram = Snapshot()}; }

 private:
  std::shared_ptr<const std::vector<double>> upper_bounds_;
  // One per bound, then one for observations above every bound.
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// `upper_bounds` as a histogram can use them: a trailing +Inf is dropped (the
// +Inf bucket always exists); InvalidArgument if a bound is NaN or infinite,
// or the bounds are not strictly increasing.
absl::StatusOr<std::vector<double>> CheckedBucketBounds(std::vector<double> upper_bounds);

// Go's DefBuckets, for latencies in seconds: 5 ms to 10 s.
std::vector<double> DefaultLatencyBounds();

// `count` bounds: start, start*factor, start*factor^2, ... Start > 0 and
// factor > 1, or the result is empty.
std::vector<double> ExponentialBounds(double start, double factor, int count);

}  // namespace fscanary::metrics
