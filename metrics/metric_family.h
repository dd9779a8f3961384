#pragma once
// A point-in-time copy of metric values: what a Collectable returns and what
// the text serializer writes. Plain data, no synchronisation.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace fscanary::metrics {

// Label name to value. Ordered, so two equal label sets compare equal and
// series come out sorted. A label whose value is empty is, as in Prometheus,
// the same as no label: Family::Add and the serializer drop it.
using Labels = std::map<std::string, std::string>;

enum class MetricType { kCounter, kGauge, kHistogram };

// The word the text format uses on the TYPE line ("counter", ...).
const char* TypeName(MetricType type);

// One finite bucket of a histogram: how many observations were <= upper_bound.
struct Bucket {
  double upper_bound = 0;
  uint64_t cumulative_count = 0;
};

// A histogram's state. The +Inf bucket is not stored: it is `count` by
// definition, so the exposition cannot show `le="+Inf"` different from
// `_count`. `buckets` are sorted by upper_bound and cumulative.
struct HistogramData {
  std::vector<Bucket> buckets;
  uint64_t count = 0;
  double sum = 0;
};

// Builds HistogramData from per-bucket (not cumulative) counts, for
// collectors that keep their own tallies. `counts` has one entry per bound
// plus a last one for observations above every bound.
HistogramData HistogramFromBucketCounts(const std::vector<double>& upper_bounds,
                                        const std::vector<uint64_t>& counts, double sum);

// One labelled series of a family. Counters and gauges use `value`,
// histograms use `histogram`.
struct Series {
  Labels labels;
  double value = 0;
  HistogramData histogram;
};

// A metric family: every series sharing one name, HELP and TYPE.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kGauge;
  std::vector<Series> series;
};

}  // namespace fscanary::metrics
