#include "metrics/text_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <system_error>

#include "metrics/normalize.h"

namespace fscanary::metrics {
namespace {

// Appends `text` with backslash and newline escaped, and double quote too if
// `escape_quote` (label values; HELP text leaves quotes alone).
void AppendEscaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

// Appends `value` as a decimal integer.
void AppendInteger(std::string& out, uint64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out.append(buffer, result.ptr);
}

void AppendValue(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  // std::to_chars ignores the locale and, without a precision, gives the
  // shortest digits that round-trip. Go's 'g' picks exponent notation when
  // the decimal exponent is below -4 or at least 6 (the precision it uses
  // for the shortest form); to_chars writes the exponent as Go does ("e+06").
  char buffer[64];
  auto result =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  const char* exponent_begin = std::find(buffer, result.ptr, 'e') + 1;
  if (*exponent_begin == '+') ++exponent_begin;
  int exponent = 0;
  std::from_chars(exponent_begin, result.ptr, exponent);
  if (exponent >= -4 && exponent < 6) {
    result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  }
  out.append(buffer, result.ptr);
}

// Appends the series name and labels of a sample, and the space before its
// value.
void AppendSeries(std::string& out, std::string_view name, std::string_view suffix,
                  const Labels& labels, std::string_view bucket_bound = {}) {
  out += name;
  out += suffix;
  if (!labels.empty() || !bucket_bound.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [label, value] : labels) {
      if (!first) out += ',';
      first = false;
      out += label;
      out += "=\"";
      AppendEscaped(out, value, /*escape_quote=*/true);
      out += '"';
    }
    if (!bucket_bound.empty()) {
      if (!first) out += ',';
      out += "le=\"";
      out += bucket_bound;
      out += '"';
    }
    out += '}';
  }
  out += ' ';
}

void AppendHistogram(std::string& out, std::string_view name, const Series& series) {
  const HistogramData& histogram = series.histogram;
  for (const Bucket& bucket : histogram.buckets) {
    AppendSeries(out, name, "_bucket", series.labels, FormatBucketBound(bucket.upper_bound));
    AppendInteger(out, bucket.cumulative_count);
    out += '\n';
  }
  AppendSeries(out, name, "_bucket", series.labels, "+Inf");
  AppendInteger(out, histogram.count);
  out += '\n';
  AppendSeries(out, name, "_sum", series.labels);
  AppendValue(out, histogram.sum);
  out += '\n';
  AppendSeries(out, name, "_count", series.labels);
  AppendInteger(out, histogram.count);
  out += '\n';
}

void AppendFamily(std::string& out, const MetricFamily& family) {
  if (!family.help.empty()) {
    out += "# HELP ";
    out += family.name;
    out += ' ';
    AppendEscaped(out, family.help, /*escape_quote=*/false);
    out += '\n';
  }
  out += "# TYPE ";
  out += family.name;
  out += ' ';
  out += TypeName(family.type);
  out += '\n';
  for (const Series& series : family.series) {
    if (family.type == MetricType::kHistogram) {
      AppendHistogram(out, family.name, series);
    } else {
      AppendSeries(out, family.name, "", series.labels);
      AppendValue(out, series.value);
      out += '\n';
    }
  }
}

}  // namespace

TextExposition SerializeText(std::vector<MetricFamily> families) {
  NormalizedFamilies normalized = NormalizeFamilies(std::move(families));
  TextExposition exposition{.problems = std::move(normalized.problems)};
  for (const MetricFamily& family : normalized.families) AppendFamily(exposition.text, family);
  return exposition;
}

std::string FormatValue(double value) {
  std::string text;
  AppendValue(text, value);
  return text;
}

std::string FormatBucketBound(double bound) {
  std::string text = FormatValue(bound);
  if (text.find_first_of(".eIN") == std::string::npos) text += ".0";
  return text;
}

std::string EscapeHelp(std::string_view help) {
  std::string escaped;
  escaped.reserve(help.size());
  AppendEscaped(escaped, help, /*escape_quote=*/false);
  return escaped;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  AppendEscaped(escaped, value, /*escape_quote=*/true);
  return escaped;
}

}  // namespace fscanary::metrics
