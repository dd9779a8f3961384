#include "metrics/names.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"

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
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    uint32_t code_point = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07;
    }
    bool ok = length != 0 && i + length <= text.size();
    for (size_t k = 1; ok && k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      ok = (next & 0xC0) == 0x80;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    // Overlong encodings, UTF-16 surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kSmallestOfLength[] = {0, 0, 0x80, 0x800, 0x10000};
    ok = ok && code_point >= kSmallestOfLength[length] && code_point <= 0x10FFFF &&
         !(code_point >= 0xD800 && code_point <= 0xDFFF);
    if (!ok) {
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
