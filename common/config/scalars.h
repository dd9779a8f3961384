#pragma once
// Turns one scalar of a config file into a typed value. Pure: the YAML reader
// hands over the text and whether it was quoted (a quoted "42" is a string,
// not a number). Error messages read after the key path:
// "targets[0].queue_depth: expected a whole number, got 'deep'".

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/durations.h"

namespace fscanary::config {

struct Scalar {
  std::string text;
  bool quoted = false;
};

// Text from the file, quoted, C-escaped (each problem stays on one line) and
// cut at 60 characters: "'abc'".
std::string Echo(std::string_view text);
// "'abc'", or "the quoted string 'abc'".
std::string DescribeScalar(const Scalar& scalar);

// Unquoted true or false (also True, TRUE, False, FALSE): YAML 1.1's yes, no,
// on and off are refused rather than silently read.
absl::StatusOr<bool> ToBool(const Scalar& scalar);
// Unquoted, finite, within [min, max].
absl::StatusOr<double> ToNumber(const Scalar& scalar, double min, double max);
// Unquoted decimal digits, within [min, max].
absl::StatusOr<uint64_t> ToWholeNumber(const Scalar& scalar, uint64_t min, uint64_t max);
// ParseByteSize forms, quoted or not, within [min, max].
absl::StatusOr<uint64_t> ToSize(const Scalar& scalar, uint64_t min, uint64_t max);
// ParseDuration forms, quoted or not, within [min, max].
absl::StatusOr<Duration> ToDuration(const Scalar& scalar, Duration min, Duration max);

}  // namespace fscanary::config
