#pragma once
// A metric family: every series of one metric name, one per label set, each a
// Counter, Gauge or Histogram. Made by Registry, which checks the name.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/collectable.h"
#include "metrics/metric_family.h"
#include "metrics/names.h"

namespace fscanary::metrics {

// Thread-safe. Add() and Remove() take a lock; updating a series through the
// pointer Add() returned takes none, so hot paths call Add() once and keep the
// pointer. Collect() copies every series under the lock.
template <typename T>
class Family final : public Collectable {
 public:
  Family(std::string name, std::string help, typename T::Config config)
      : name_(std::move(name)), help_(std::move(help)), config_(std::move(config)) {}

  // The series with `labels`, created at zero on first use. Labels with an
  // empty value are dropped first (Prometheus treats them as absent). The
  // pointer is never null and stays valid until Remove() of the same labels
  // or the family's destruction. InvalidArgument for a bad label name, a
  // value that is not UTF-8, or "le" on a histogram.
  absl::StatusOr<T*> Add(const Labels& labels) {
    if (HasEmptyValue(labels)) return Add(WithoutEmptyValues(labels));
    std::lock_guard lock(mutex_);
    if (auto it = series_.find(labels); it != series_.end()) return it->second.get();
    if (absl::Status status = ValidateLabels(labels, T::kType); !status.ok()) {
      return absl::InvalidArgumentError(name_ + ": " + std::string(status.message()));
    }
    return series_.emplace(labels, std::make_unique<T>(config_)).first->second.get();
  }

  // Forgets the series with `labels` (for things that are gone); true if it
  // existed. Any pointer Add() returned for it dangles from now on.
  bool Remove(const Labels& labels) {
    const Labels key = WithoutEmptyValues(labels);
    std::lock_guard lock(mutex_);
    return series_.erase(key) > 0;
  }

  const std::string& name() const { return name_; }

  std::vector<MetricFamily> Collect() const override {
    MetricFamily family{.name = name_, .help = help_, .type = T::kType};
    std::lock_guard lock(mutex_);
    family.series.reserve(series_.size());
    for (const auto& [labels, metric] : series_) {
      family.series.push_back(metric->Collect());
      family.series.back().labels = labels;
    }
    std::vector<MetricFamily> families;
    families.push_back(std::move(family));
    return families;
  }

 private:
  static bool HasEmptyValue(const Labels& labels) {
    for (const auto& entry : labels) {
      if (entry.second.empty()) return true;
    }
    return false;
  }

  const std::string name_;
  const std::string help_;
  const typename T::Config config_;
  mutable std::mutex mutex_;
  // Node-based, so the T objects never move while the map grows.
  std::map<Labels, std::unique_ptr<T>> series_;
};

}  // namespace fscanary::metrics
