#pragma once
// Turns whatever the collectables returned into a set of families the text
// format can express exactly: sorted, one block per name, no duplicate series,
// valid names and histograms. The serializer calls it; tests use it directly.

#include <string>
#include <vector>

#include "metrics/metric_family.h"

namespace fscanary::metrics {

struct NormalizedFamilies {
  std::vector<MetricFamily> families;
  // One line per thing dropped or reconciled, naming the family and why.
  std::vector<std::string> problems;
};

// - Families of the same name are merged into one (a collectable may report
//   part of a family that a registry also holds). Where types differ, the
//   first family reported wins and the others are dropped; where HELP texts
//   differ, the first wins.
// - Families with an invalid name or non-UTF-8 HELP, series with invalid
//   labels, and histogram series whose bounds are not finite and increasing or
//   whose counts are not cumulative up to `count`, and negative counters are
//   dropped.
// - Labels with empty values are removed (Prometheus treats them as absent).
// - Series are sorted by labels; a series whose labels repeat an earlier
//   one's is dropped.
// - A family whose name is a sample name of a histogram family ("x_count" next
//   to histogram "x") is dropped.
// - Families without series are dropped; families come out sorted by name.
NormalizedFamilies NormalizeFamilies(std::vector<MetricFamily> families);

}  // namespace fscanary::metrics
