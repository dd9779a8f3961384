#include "metrics/exposition_check.h"

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "metrics/names.h"
#include "metrics/text_format.h"

namespace fscanary::metrics {
namespace {

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipDigits(std::string_view text, size_t i) {
  while (i < text.size() && IsDigit(text[i])) ++i;
  return i;
}

// A number as the format spells it: [-]digits[.digits][e[+-]digits], NaN, +Inf
// or -Inf. Rejects what a locale would write ("0,5") and C's "inf", "nan".
std::optional<double> ParseNumber(std::string_view text) {
  if (text == "NaN") return NAN;
  if (text == "+Inf") return INFINITY;
  if (text == "-Inf") return -INFINITY;
  size_t i = text.starts_with('-') ? 1 : 0;
  const size_t integer_end = SkipDigits(text, i);
  size_t digits = integer_end - i;
  i = integer_end;
  if (i < text.size() && text[i] == '.') {
    const size_t fraction_end = SkipDigits(text, i + 1);
    digits += fraction_end - (i + 1);
    i = fraction_end;
  }
  if (digits == 0) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    const size_t exponent_end = SkipDigits(text, i);
    if (exponent_end == i) return std::nullopt;
    i = exponent_end;
  }
  if (i != text.size()) return std::nullopt;
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

bool IsWholeCount(double value) {
  return value >= 0 && std::isfinite(value) && value == std::trunc(value);
}

struct Sample {
  std::string name;
  // Label name to value, unescaped; empty values kept (they are dropped when
  // the series identity is computed).
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses one sample line: name, optional {labels}, value, optional timestamp,
// separated by single spaces.
absl::StatusOr<Sample> ParseSample(std::string_view line) {
  Sample sample;
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  sample.name = std::string(line.substr(0, i));
  RETURN_IF_ERROR(ValidateMetricName(sample.name));
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      const size_t name_start = i;
      while (i < line.size() && line[i] != '=') ++i;
      std::string name(line.substr(name_start, i - name_start));
      RETURN_IF_ERROR(ValidateLabelName(name));
      if (i + 1 >= line.size() || line[i + 1] != '"') {
        return absl::InvalidArgumentError(absl::StrCat("value of label ", name, " is not quoted"));
      }
      i += 2;
      std::string value;
      for (;;) {
        if (i >= line.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("value of label ", name, " is not closed"));
        }
        const char c = line[i++];
        if (c == '"') break;
        if (c != '\\') {
          value += c;
          continue;
        }
        const char escaped = i < line.size() ? line[i++] : '\0';
        if (escaped == '\\' || escaped == '"') {
          value += escaped;
        } else if (escaped == 'n') {
          value += '\n';
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              "value of label ", name, " has an invalid escape \\", std::string(1, escaped)));
        }
      }
      if (!sample.labels.emplace(name, std::move(value)).second) {
        return absl::InvalidArgumentError(absl::StrCat("label ", name, " appears twice"));
      }
      if (i < line.size() && line[i] == ',') {
        ++i;
        if (i < line.size() && line[i] == '}') {
          return absl::InvalidArgumentError("trailing comma in the label set");
        }
      } else if (i >= line.size() || line[i] != '}') {
        return absl::InvalidArgumentError(absl::StrCat("expected , or } after label ", name));
      }
    }
    if (i >= line.size()) return absl::InvalidArgumentError("label set is not closed");
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') {
    return absl::InvalidArgumentError("expected one space between the series and its value");
  }
  ++i;
  const size_t value_end = std::min(line.find(' ', i), line.size());
  const std::string_view value_text = line.substr(i, value_end - i);
  const std::optional<double> value = ParseNumber(value_text);
  if (!value) {
    return absl::InvalidArgumentError(
        absl::StrCat("value \"", View(value_text), "\" is not a number as the format spells it"));
  }
  sample.value = *value;
  if (value_end < line.size()) {
    std::string_view timestamp = line.substr(value_end + 1);
    if (timestamp.starts_with('-')) timestamp.remove_prefix(1);
    if (timestamp.empty() || SkipDigits(timestamp, 0) != timestamp.size()) {
      return absl::InvalidArgumentError("the timestamp after the value is not an integer");
    }
  }
  return sample;
}

// The identity of a series: labels sorted, empty values dropped, optionally
// without one label (le, to group a histogram's buckets).
std::string SeriesKey(const std::map<std::string, std::string>& labels,
                      std::string_view without = {}) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (value.empty() || name == without) continue;
    absl::StrAppend(&key, key.empty() ? "" : ",", name, "=\"", EscapeLabelValue(value), "\"");
  }
  return "{" + key + "}";
}

// What a histogram series showed, in the order of its lines.
struct HistogramSeries {
  int first_line = 0;
  std::vector<std::pair<double, double>> buckets;  // (le, count)
  std::optional<double> sum;
  std::optional<double> count;
};

class Checker {
 public:
  absl::Status Check(std::string_view text) {
    RETURN_IF_ERROR(ValidateUtf8(text, "the exposition"));
    if (!text.empty() && !text.ends_with('\n')) {
      return absl::InvalidArgumentError("the exposition does not end in a newline");
    }
    size_t start = 0;
    while (start < text.size()) {
      const size_t end = text.find('\n', start);
      ++line_number_;
      if (absl::Status status = CheckLine(text.substr(start, end - start)); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("line ", line_number_, ": ", status.message()));
      }
      start = end + 1;
    }
    if (absl::Status status = FinishFamily(); !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("at the end: ", status.message()));
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckLine(std::string_view line) {
    if (line.empty()) return absl::InvalidArgumentError("empty line");
    if (line.starts_with("# HELP ")) return CheckHelp(line.substr(7));
    if (line.starts_with("# TYPE ")) return CheckType(line.substr(7));
    if (line.starts_with('#')) return absl::OkStatus();  // A plain comment.
    return CheckSample(line);
  }

  absl::Status CheckHelp(std::string_view rest) {
    const size_t space = rest.find(' ');
    const std::string name(rest.substr(0, space));
    RETURN_IF_ERROR(ValidateMetricName(name));
    const std::string_view help = space == std::string_view::npos ? "" : rest.substr(space + 1);
    for (size_t i = 0; i < help.size(); ++i) {
      if (help[i] != '\\') continue;
      if (i + 1 >= help.size() || (help[i + 1] != '\\' && help[i + 1] != 'n')) {
        return absl::InvalidArgumentError(absl::StrCat("HELP of ", name, " has an invalid escape"));
      }
      ++i;
    }
    RETURN_IF_ERROR(EnterFamily(name));
    if (family_has_help_) return absl::InvalidArgumentError(absl::StrCat("second HELP for ", name));
    if (family_has_samples_) {
      return absl::InvalidArgumentError(absl::StrCat("HELP for ", name, " after its samples"));
    }
    family_has_help_ = true;
    return absl::OkStatus();
  }

  absl::Status CheckType(std::string_view rest) {
    const size_t space = rest.find(' ');
    if (space == std::string_view::npos) return absl::InvalidArgumentError("TYPE without a type");
    const std::string name(rest.substr(0, space));
    RETURN_IF_ERROR(ValidateMetricName(name));
    const std::string_view type = rest.substr(space + 1);
    if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
        type != "untyped") {
      return absl::InvalidArgumentError(absl::StrCat("unknown TYPE \"", View(type), "\""));
    }
    RETURN_IF_ERROR(EnterFamily(name));
    if (!family_type_.empty())
      return absl::InvalidArgumentError(absl::StrCat("second TYPE for ", name));
    if (family_has_samples_) {
      return absl::InvalidArgumentError(absl::StrCat("TYPE for ", name, " after its samples"));
    }
    family_type_ = std::string(type);
    return absl::OkStatus();
  }

  // The name of the family a sample called `name` belongs to, if it is the
  // family being read.
  bool InCurrentFamily(std::string_view name) const {
    if (name == family_) return true;
    if (family_type_ != "histogram" || !name.starts_with(family_)) return false;
    const std::string_view suffix = name.substr(family_.size());
    return suffix == "_bucket" || suffix == "_sum" || suffix == "_count";
  }

  absl::Status CheckSample(std::string_view line) {
    ASSIGN_OR_RETURN(Sample sample, ParseSample(line));
    if (family_.empty() || !InCurrentFamily(sample.name)) {
      RETURN_IF_ERROR(EnterFamily(sample.name));
    }
    if (family_type_.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(sample.name, " has no TYPE line"));
    }
    family_has_samples_ = true;
    if (!series_.insert(sample.name + SeriesKey(sample.labels)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate series ", sample.name, SeriesKey(sample.labels)));
    }
    if (family_type_ == "counter" && sample.value < 0) {
      return absl::InvalidArgumentError(absl::StrCat("counter ", sample.name, " is negative"));
    }
    if (family_type_ == "histogram") return RecordHistogramSample(sample);
    return absl::OkStatus();
  }

  absl::Status RecordHistogramSample(const Sample& sample) {
    const std::string_view suffix = std::string_view(sample.name).substr(family_.size());
    if (suffix.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("histogram sample ", sample.name, " lacks _bucket, _sum or _count"));
    }
    HistogramSeries& series = histograms_[SeriesKey(sample.labels, "le")];
    if (series.first_line == 0) series.first_line = line_number_;
    if (suffix == "_sum") {
      series.sum = sample.value;
      return absl::OkStatus();
    }
    if (!IsWholeCount(sample.value)) {
      return absl::InvalidArgumentError(absl::StrCat(sample.name, " is not a whole count"));
    }
    if (suffix == "_count") {
      series.count = sample.value;
      return absl::OkStatus();
    }
    const auto le = sample.labels.find("le");
    if (le == sample.labels.end()) {
      return absl::InvalidArgumentError(absl::StrCat(sample.name, " has no le label"));
    }
    const std::optional<double> bound = ParseNumber(le->second);
    if (!bound) {
      return absl::InvalidArgumentError(absl::StrCat("le=\"", le->second, "\" is not a number"));
    }
    if (FormatBucketBound(*bound) != le->second) {
      return absl::InvalidArgumentError(absl::StrCat("le=\"", le->second,
                                                     "\" is not canonical: ", "write le=\"",
                                                     FormatBucketBound(*bound), "\""));
    }
    series.buckets.emplace_back(*bound, sample.value);
    return absl::OkStatus();
  }

  // Moves on to the family called `name`, closing the one being read.
  absl::Status EnterFamily(const std::string& name) {
    if (name == family_) return absl::OkStatus();
    RETURN_IF_ERROR(FinishFamily());
    if (finished_families_.contains(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("family ", name, " is split: it appeared before"));
    }
    if (!family_.empty() && name < family_) {
      return absl::InvalidArgumentError(
          absl::StrCat("families are not sorted: ", name, " comes after ", family_));
    }
    if (!family_.empty()) finished_families_.insert(family_);
    family_ = name;
    family_type_.clear();
    family_has_help_ = false;
    family_has_samples_ = false;
    return absl::OkStatus();
  }

  absl::Status FinishFamily() {
    for (const auto& [key, series] : histograms_) {
      const std::string where =
          absl::StrCat("histogram ", family_, key, " (from line ", series.first_line, ")");
      if (series.buckets.empty()) return absl::InvalidArgumentError(where + " has no buckets");
      for (size_t i = 1; i < series.buckets.size(); ++i) {
        if (!(series.buckets[i - 1].first < series.buckets[i].first)) {
          return absl::InvalidArgumentError(where + ": buckets are not sorted by le");
        }
        if (series.buckets[i - 1].second > series.buckets[i].second) {
          return absl::InvalidArgumentError(where + ": bucket counts are not cumulative");
        }
      }
      const auto& [last_bound, last_count] = series.buckets.back();
      if (last_bound != INFINITY) {
        return absl::InvalidArgumentError(where + " has no le=\"+Inf\" bucket");
      }
      if (!series.count) return absl::InvalidArgumentError(where + " has no _count");
      if (!series.sum) return absl::InvalidArgumentError(where + " has no _sum");
      if (*series.count != last_count) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": le=\"+Inf\" counts ", last_count,
                                                       " but _count is ", *series.count));
      }
    }
    histograms_.clear();
    return absl::OkStatus();
  }

  int line_number_ = 0;
  std::string family_;       // Empty before the first family.
  std::string family_type_;  // Empty until the family's TYPE line.
  bool family_has_help_ = false;
  bool family_has_samples_ = false;
  std::set<std::string> finished_families_;
  std::set<std::string> series_;
  std::map<std::string, HistogramSeries> histograms_;  // Of the current family.
};

}  // namespace

absl::Status CheckTextExposition(std::string_view text) { return Checker().Check(text); }

}  // namespace fscanary::metrics
