#include "metrics/histogram.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace fscanary::metrics {

Histogram::Histogram(const Config& config)
    : upper_bounds_(config.upper_bounds ? config.upper_bounds
                                        : std::make_shared<const std::vector<double>>()),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(upper_bounds_->size() + 1)) {}

void Histogram::Observe(double value) {
  const std::vector<double>& bounds = *upper_bounds_;
  // lower_bound would put NaN (which compares false with everything) first.
  const size_t bucket =
      std::isnan(value)
          ? bounds.size()
          : static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) -
                                bounds.begin());
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

HistogramData Histogram::Snapshot() const {
  const std::vector<double>& bounds = *upper_bounds_;
  HistogramData data{.sum = sum_.load(std::memory_order_relaxed)};
  data.buckets.reserve(bounds.size());
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    data.buckets.push_back({.upper_bound = bounds[i], .cumulative_count = cumulative});
  }
  data.count = cumulative + counts_[bounds.size()].load(std::memory_order_relaxed);
  return data;
}

absl::StatusOr<std::vector<double>> CheckedBucketBounds(std::vector<double> upper_bounds) {
  if (!upper_bounds.empty() && upper_bounds.back() == INFINITY) upper_bounds.pop_back();
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bucket bound ", i, " is ", upper_bounds[i], ": bounds must be finite"));
    }
    if (i > 0 && !(upper_bounds[i - 1] < upper_bounds[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("bucket bounds must be strictly increasing: ", upper_bounds[i - 1], " then ",
                       upper_bounds[i]));
    }
  }
  return upper_bounds;
}

std::vector<double> DefaultLatencyBounds() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBounds(double start, double factor, int count) {
  std::vector<double> bounds;
  if (!(start > 0) || !(factor > 1)) return bounds;
  for (double bound = start; count > 0; --count, bound *= factor) bounds.push_back(bound);
  return bounds;
}

}  // namespace fscanary::metrics
