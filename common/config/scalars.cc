#include "common/config/scalars.h"

#include <charconv>
#include <cmath>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/sizes.h"

namespace fscanary::config {
namespace {

constexpr size_t kMaxEcho = 60;

absl::Status Expected(std::string_view what, const Scalar& scalar) {
  return absl::InvalidArgumentError(absl::StrCat(
      "expected ", absl::string_view(what.data(), what.size()), ", got ", DescribeScalar(scalar)));
}

absl::Status OutOfRange(const Scalar& scalar, std::string_view min, std::string_view max) {
  return absl::InvalidArgumentError(absl::StrCat(absl::CEscape(scalar.text), " is not between ",
                                                 absl::string_view(min.data(), min.size()), " and ",
                                                 absl::string_view(max.data(), max.size())));
}

}  // namespace

std::string Echo(std::string_view text) {
  const absl::string_view view(text.data(), text.size());
  if (view.size() <= kMaxEcho) return absl::StrCat("'", absl::CEscape(view), "'");
  return absl::StrCat("'", absl::CEscape(view.substr(0, kMaxEcho)), "...'");
}

std::string DescribeScalar(const Scalar& scalar) {
  return (scalar.quoted ? "the quoted string " : "") + Echo(scalar.text);
}

absl::StatusOr<bool> ToBool(const Scalar& scalar) {
  const std::string& text = scalar.text;
  if (!scalar.quoted) {
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  return Expected("true or false", scalar);
}

absl::StatusOr<double> ToNumber(const Scalar& scalar, double min, double max) {
  const std::string& text = scalar.text;
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (scalar.quoted || error != std::errc() || stop != end || !std::isfinite(value)) {
    return Expected("a number", scalar);
  }
  if (value < min || value > max) return OutOfRange(scalar, absl::StrCat(min), absl::StrCat(max));
  return value;
}

absl::StatusOr<uint64_t> ToWholeNumber(const Scalar& scalar, uint64_t min, uint64_t max) {
  const std::string& text = scalar.text;
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (scalar.quoted || error == std::errc::invalid_argument || stop != end) {
    return Expected("a whole number", scalar);
  }
  if (error == std::errc::result_out_of_range || value < min || value > max) {
    return OutOfRange(scalar, absl::StrCat(min), absl::StrCat(max));
  }
  return value;
}

absl::StatusOr<uint64_t> ToSize(const Scalar& scalar, uint64_t min, uint64_t max) {
  absl::StatusOr<uint64_t> value = ParseByteSize(scalar.text);
  if (!value.ok()) return absl::InvalidArgumentError(value.status().message());
  if (*value < min || *value > max) {
    return OutOfRange(scalar, FormatByteSize(min), FormatByteSize(max));
  }
  return value;
}

absl::StatusOr<Duration> ToDuration(const Scalar& scalar, Duration min, Duration max) {
  absl::StatusOr<Duration> value = ParseDuration(scalar.text);
  if (!value.ok()) return absl::InvalidArgumentError(value.status().message());
  if (*value < min || *value > max) {
    return OutOfRange(scalar, FormatDuration(min), FormatDuration(max));
  }
  return value;
}

}  // namespace fscanary::config
