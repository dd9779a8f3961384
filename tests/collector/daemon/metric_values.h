#pragma once
// Reading series out of collected families, for the fleet metrics tests.

#include <optional>
#include <string>
#include <vector>

#include "metrics/metric_family.h"

namespace fscanary::collector::testing {

// The value of the series `name{labels}`, if it is there.
inline std::optional<double> Value(const std::vector<metrics::MetricFamily>& families,
                                   const std::string& name, const metrics::Labels& labels) {
  for (const metrics::MetricFamily& family : families) {
    if (family.name != name) continue;
    for (const metrics::Series& series : family.series) {
      if (series.labels == labels) return series.value;
    }
  }
  return std::nullopt;
}

// Series of the family `name`.
inline size_t SeriesCount(const std::vector<metrics::MetricFamily>& families,
                          const std::string& name) {
  for (const metrics::MetricFamily& family : families) {
    if (family.name == name) return family.series.size();
  }
  return 0;
}

}  // namespace fscanary::collector::testing
