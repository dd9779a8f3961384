#include "metrics/metric_family.h"

#include <algorithm>

namespace fscanary::metrics {

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

HistogramData HistogramFromBucketCounts(const std::vector<double>& upper_bounds,
                                        const std::vector<uint64_t>& counts, double sum) {
  HistogramData histogram{.sum = sum};
  histogram.buckets.reserve(upper_bounds.size());
  uint64_t cumulative = 0;
  for (size_t i = 0; i < upper_bounds.size(); ++i) {
    if (i < counts.size()) cumulative += counts[i];
    histogram.buckets.push_back({.upper_bound = upper_bounds[i], .cumulative_count = cumulative});
  }
  for (size_t i = upper_bounds.size(); i < counts.size(); ++i) cumulative += counts[i];
  histogram.count = cumulative;
  return histogram;
}

}  // namespace fscanary::metrics
