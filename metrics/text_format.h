#pragma once
// The Prometheus text exposition format, version 0.0.4: what GET /metrics
// returns. Numbers are written without the C or C++ locale, so a process
// running under a comma-decimal locale still writes "0.5".

#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_family.h"

namespace fscanary::metrics {

// The Content-Type of the text exposition.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

struct TextExposition {
  std::string text;
  // What NormalizeFamilies left out or had to reconcile, one line each; empty
  // for a well-behaved set of collectables.
  std::vector<std::string> problems;
};

// Normalises `families` (see normalize.h), then writes each family as HELP
// (if any), TYPE and its series; histograms as cumulative `_bucket` series
// ending in `le="+Inf"`, then `_sum` and `_count`. The text ends in a newline
// unless it is empty.
TextExposition SerializeText(std::vector<MetricFamily> families);

// A sample value as the Go client writes it (strconv 'g', shortest form that
// parses back to the same double): "0", "0.5", "100000", "1e+06",
// "1.5e-05", and "NaN", "+Inf", "-Inf".
std::string FormatValue(double value);

// A bucket bound for the `le` label, in the canonical form of OpenMetrics,
// which Prometheus 3 also gives `le` values when it ingests them: FormatValue
// with ".0" added to a whole number, so 1 is "1.0" (not "1"), 0.25 is "0.25",
// 1e6 is "1e+06". The same bound always gives the same label value, and the
// value parses back to the same double.
std::string FormatBucketBound(double bound);

// HELP text with backslash and newline escaped ("\\", "\n").
std::string EscapeHelp(std::string_view help);

// A label value with backslash, double quote and newline escaped.
std::string EscapeLabelValue(std::string_view value);

}  // namespace fscanary::metrics
