#include "metrics/registry.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "metrics/names.h"

namespace fscanary::metrics {
namespace {

absl::string_view View(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// The names of the samples a family of `type` called `name` writes.
std::vector<std::string> SampleNames(std::string_view name, MetricType type) {
  std::vector<std::string> names = {std::string(name)};
  if (type == MetricType::kHistogram) {
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      names.push_back(absl::StrCat(View(name), suffix));
  }
  return names;
}

}  // namespace

absl::Status Registry::Claim(std::string_view name, std::string_view help, MetricType type) {
  RETURN_IF_ERROR(ValidateMetricName(name));
  const bool ends_in_total = name.ends_with("_total");
  if (type == MetricType::kCounter && !ends_in_total) {
    return absl::InvalidArgumentError(absl::StrCat("counter ", View(name), " must end in _total"));
  }
  if (type != MetricType::kCounter && ends_in_total) {
    return absl::InvalidArgumentError(
        absl::StrCat(TypeName(type), " ", View(name), " must not end in _total (counters only)"));
  }
  if (help.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(View(name), " needs HELP text"));
  }
  RETURN_IF_ERROR(ValidateUtf8(help, absl::StrCat("HELP of ", View(name))));
  const std::vector<std::string> names = SampleNames(name, type);
  for (const std::string& sample_name : names) {
    if (claimed_names_.contains(sample_name)) {
      return absl::AlreadyExistsError(absl::StrCat("metric ", View(name), ": the name ",
                                                   sample_name, " is already registered"));
    }
  }
  claimed_names_.insert(names.begin(), names.end());
  return absl::OkStatus();
}

template <typename T>
absl::StatusOr<Family<T>*> Registry::Add(std::string_view name, std::string_view help,
                                         typename T::Config config) {
  std::lock_guard lock(mutex_);
  RETURN_IF_ERROR(Claim(name, help, T::kType));
  auto family =
      std::make_unique<Family<T>>(std::string(name), std::string(help), std::move(config));
  Family<T>* raw = family.get();
  families_.push_back(std::move(family));
  return raw;
}

absl::StatusOr<Family<Counter>*> Registry::AddCounter(std::string_view name,
                                                      std::string_view help) {
  return Add<Counter>(name, help, {});
}

absl::StatusOr<Family<Gauge>*> Registry::AddGauge(std::string_view name, std::string_view help) {
  return Add<Gauge>(name, help, {});
}

absl::StatusOr<Family<Histogram>*> Registry::AddHistogram(std::string_view name,
                                                          std::string_view help,
                                                          std::vector<double> upper_bounds) {
  auto bounds = CheckedBucketBounds(std::move(upper_bounds));
  if (!bounds.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("histogram ", View(name), ": ", bounds.status().message()));
  }
  return Add<Histogram>(
      name, help,
      {.upper_bounds = std::make_shared<const std::vector<double>>(std::move(bounds).value())});
}

std::vector<MetricFamily> Registry::Collect() const {
  std::lock_guard lock(mutex_);
  std::vector<MetricFamily> families;
  families.reserve(families_.size());
  for (const auto& family : families_) {
    for (MetricFamily& collected : family->Collect()) families.push_back(std::move(collected));
  }
  return families;
}

}  // namespace fscanary::metrics
