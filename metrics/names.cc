#include "metrics/names.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "common/utf8.h"

namespace fscanary::metrics {
namespace {

bool IsLetterOrUnderscore(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

absl::Status ValidateMetricName(std::string_view name) {
  bool ok = !name.empty() && (IsLetterOrUnderscore(name[0]) || name[0] == ':');
  for (size_t i = 1; ok && i < name.size(); ++i) {
    ok = IsLetterOrUnderscore(name[i]) || IsDigit(name[i]) || name[i] == ':';
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid metric name \"", View(name), "\": want [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelName(std::string_view name) {
  bool ok = !name.empty() && IsLetterOrUnderscore(name[0]);
  for (size_t i = 1; ok && i < name.size(); ++i) {
    ok = IsLetterOrUnderscore(name[i]) || IsDigit(name[i]);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid label name \"", View(name), "\": want [a-zA-Z_][a-zA-Z0-9_]*"));
  }
  if (name.starts_with("__")) {
    return absl::InvalidArgumentError(
        absl::StrCat("label name \"", View(name), "\" is reserved: __ names belong to Prometheus"));
  }
  return absl::OkStatus();
}

absl::Status ValidateUtf8(std::string_view text, std::string_view what) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(View(what), " is not valid UTF-8 (byte ", i, ")"));
    }
    i += length;
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(const Labels& labels, MetricType type) {
  for (const auto& [name, value] : labels) {
    RETURN_IF_ERROR(ValidateLabelName(name));
    if (type == MetricType::kHistogram && name == "le") {
      return absl::InvalidArgumentError("label name \"le\" is reserved for histogram buckets");
    }
    RETURN_IF_ERROR(ValidateUtf8(value, "value of label " + name));
  }
  return absl::OkStatus();
}

Labels WithoutEmptyValues(const Labels& labels) {
  Labels kept;
  for (const auto& [name, value] : labels) {
    if (!value.empty()) kept.emplace_hint(kept.end(), name, value);
  }
  return kept;
}

}  // namespace fscanary::metrics
