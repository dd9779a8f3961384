#pragma once
// A strict reader of the text exposition format 0.0.4 that finds what
// `promtool check metrics` lets through. Tests run it on every exposition the
// serializer writes; it can check any other exporter's output too.

#include <string_view>

#include "absl/status/status.h"

namespace fscanary::metrics {

// OK if `text` is a well-formed exposition that also keeps fscanary's own
// guarantees; otherwise InvalidArgument naming the first defect and its line.
// Checked, beyond the grammar (names, label escapes \\ \" \n, HELP escapes
// \\ \n, number spelling: NaN, +Inf, -Inf, no locale commas):
// - every family has a TYPE line, HELP and TYPE come before its samples, each
//   at most once;
// - a family's lines are contiguous (never split) and families are sorted by
//   name;
// - no series (name and label set; empty label values count as absent)
//   appears twice, and no sample repeats a label name;
// - histograms: every series has buckets sorted by `le`, cumulative counts, a
//   last bucket `le="+Inf"` equal to `_count`, a `_sum` and a `_count`;
//   bucket bounds are written in canonical form (FormatBucketBound: "1.0");
//   counts are whole and non-negative;
// - counters are not negative;
// - the text is UTF-8 and ends in a newline (or is empty).
absl::Status CheckTextExposition(std::string_view text);

}  // namespace fscanary::metrics
