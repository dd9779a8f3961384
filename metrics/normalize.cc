#include "metrics/normalize.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "metrics/names.h"

namespace fscanary::metrics {
namespace {

bool HasEmptyValue(const Labels& labels) {
  return std::any_of(labels.begin(), labels.end(),
                     [](const auto& label) { return label.second.empty(); });
}

// Why a histogram series cannot be written as it is, or an empty string.
std::string HistogramDefect(const HistogramData& histogram) {
  for (size_t i = 0; i < histogram.buckets.size(); ++i) {
    const Bucket& bucket = histogram.buckets[i];
    if (!std::isfinite(bucket.upper_bound)) return "a bucket bound is not finite";
    if (i > 0) {
      const Bucket& previous = histogram.buckets[i - 1];
      if (!(previous.upper_bound < bucket.upper_bound)) return "bucket bounds are not increasing";
      if (previous.cumulative_count > bucket.cumulative_count) {
        return "bucket counts are not cumulative";
      }
    }
  }
  if (!histogram.buckets.empty() && histogram.buckets.back().cumulative_count > histogram.count) {
    return "a bucket counts more than _count";
  }
  return "";
}

std::string Describe(const MetricFamily& family, const Series& series) {
  std::string text = family.name + "{";
  for (const auto& [name, value] : series.labels) {
    absl::StrAppend(&text, text.back() == '{' ? "" : ",", name, "=\"", value, "\"");
  }
  return text + "}";
}

// Cleans the series of one merged family in place; sorts and de-duplicates.
void NormalizeSeries(MetricFamily& family, std::vector<std::string>& problems) {
  std::vector<Series> kept;
  kept.reserve(family.series.size());
  for (Series& series : family.series) {
    if (HasEmptyValue(series.labels)) series.labels = WithoutEmptyValues(series.labels);
    if (absl::Status status = ValidateLabels(series.labels, family.type); !status.ok()) {
      problems.push_back(absl::StrCat("dropped a series of ", family.name, ": ", status.message()));
      continue;
    }
    if (family.type == MetricType::kCounter && series.value < 0) {
      problems.push_back(
          absl::StrCat("dropped ", Describe(family, series), ": counter is negative"));
      continue;
    }
    if (family.type == MetricType::kHistogram) {
      if (std::string defect = HistogramDefect(series.histogram); !defect.empty()) {
        problems.push_back(absl::StrCat("dropped ", Describe(family, series), ": ", defect));
        continue;
      }
    }
    kept.push_back(std::move(series));
  }
  const auto by_labels = [](const Series& a, const Series& b) { return a.labels < b.labels; };
  // A Family's series come sorted already; checking is much cheaper than sorting.
  if (!std::is_sorted(kept.begin(), kept.end(), by_labels)) {
    std::stable_sort(kept.begin(), kept.end(), by_labels);
  }
  family.series.clear();
  for (Series& series : kept) {
    if (!family.series.empty() && family.series.back().labels == series.labels) {
      problems.push_back(absl::StrCat("dropped duplicate series ", Describe(family, series)));
      continue;
    }
    family.series.push_back(std::move(series));
  }
}

}  // namespace

NormalizedFamilies NormalizeFamilies(std::vector<MetricFamily> families) {
  NormalizedFamilies result;
  std::vector<std::string>& problems = result.problems;

  std::vector<MetricFamily> valid;
  valid.reserve(families.size());
  for (MetricFamily& family : families) {
    absl::Status status = ValidateMetricName(family.name);
    if (status.ok()) status = ValidateUtf8(family.help, "HELP");
    if (!status.ok()) {
      problems.push_back(absl::StrCat("dropped family ", family.name, ": ", status.message()));
      continue;
    }
    valid.push_back(std::move(family));
  }
  std::stable_sort(valid.begin(), valid.end(),
                   [](const MetricFamily& a, const MetricFamily& b) { return a.name < b.name; });

  std::vector<MetricFamily> merged;
  for (MetricFamily& family : valid) {
    if (merged.empty() || merged.back().name != family.name) {
      merged.push_back(std::move(family));
      continue;
    }
    MetricFamily& first = merged.back();
    if (first.type != family.type) {
      problems.push_back(absl::StrCat("dropped a part of ", family.name, " reported as ",
                                      TypeName(family.type), ": it is a ", TypeName(first.type)));
      continue;
    }
    if (first.help != family.help) {
      problems.push_back(absl::StrCat(family.name, " has two HELP texts; kept the first"));
    }
    std::move(family.series.begin(), family.series.end(), std::back_inserter(first.series));
  }

  std::set<std::string> histogram_sample_names;
  for (const MetricFamily& family : merged) {
    if (family.type != MetricType::kHistogram) continue;
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      histogram_sample_names.insert(family.name + suffix);
    }
  }
  for (MetricFamily& family : merged) {
    if (histogram_sample_names.contains(family.name)) {
      problems.push_back(absl::StrCat("dropped family ", family.name,
                                      ": a histogram writes samples of that name"));
      continue;
    }
    NormalizeSeries(family, problems);
    if (!family.series.empty()) result.families.push_back(std::move(family));
  }
  return result;
}

}  // namespace fscanary::metrics
