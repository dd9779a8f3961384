#pragma once
// Validation of metric names, label names and label values against the
// Prometheus data model, so a bad name is refused when it is registered
// instead of breaking a scrape later.

#include <string_view>

#include "absl/status/status.h"
#include "metrics/metric_family.h"

namespace fscanary::metrics {

// OK if `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*; InvalidArgument otherwise.
absl::Status ValidateMetricName(std::string_view name);

// OK if `name` matches [a-zA-Z_][a-zA-Z0-9_]* and does not start with "__"
// (reserved for Prometheus itself); InvalidArgument otherwise.
absl::Status ValidateLabelName(std::string_view name);

// OK if `text` is valid UTF-8 (label values and HELP text must be).
absl::Status ValidateUtf8(std::string_view text, std::string_view what);

// Validates every label of a series of a family of `type`: names, values, and
// the label a histogram reserves for itself ("le").
absl::Status ValidateLabels(const Labels& labels, MetricType type);

// `labels` without the entries whose value is empty, which Prometheus treats
// as absent.
Labels WithoutEmptyValues(const Labels& labels);

}  // namespace fscanary::metrics
