#include "collector/daemon/label_folding.h"

#include <algorithm>
#include <utility>

namespace fscanary::collector {

bool IsAcceptableLabelValue(std::string_view value, size_t max_bytes) {
  if (value.empty() || value.size() > max_bytes) return false;
  return std::all_of(value.begin(), value.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view(" ._:+~@/=,-").find(c) != std::string_view::npos;
  });
}

size_t LabelFolder::LimitOf(const std::string& label) const {
  return label == "host" ? limits_.max_hosts : limits_.max_values;
}

void LabelFolder::Offer(const std::string& label, const std::string& value, uint64_t weight) {
  Label& entry = labels_[label];
  auto [it, added] = entry.candidates.try_emplace(value);
  if (added) it->second.order = entry.candidates.size();
  it->second.weight += weight;
}

void LabelFolder::Decide() {
  for (auto& [name, label] : labels_) {
    std::vector<std::pair<const std::string*, Candidate>> acceptable;
    acceptable.reserve(label.candidates.size());
    for (const auto& [value, candidate] : label.candidates) {
      if (IsAcceptableLabelValue(value, limits_.max_value_bytes)) {
        acceptable.emplace_back(&value, candidate);
      }
    }
    // Ties: hosts by the order offered (known longest first); attribute
    // values by the value itself, so that the per-host series and the
    // aggregates, which offer in different orders, keep the same values.
    const bool by_order = name == "host";
    std::sort(acceptable.begin(), acceptable.end(), [by_order](const auto& a, const auto& b) {
      if (a.second.weight != b.second.weight) return a.second.weight > b.second.weight;
      return by_order ? a.second.order < b.second.order : *a.first < *b.first;
    });
    acceptable.resize(std::min(acceptable.size(), LimitOf(name)));
    label.kept.clear();
    for (const auto& entry : acceptable) label.kept.emplace(*entry.first, true);
    label.folded = label.candidates.size() - label.kept.size();
  }
}

std::string LabelFolder::Fold(const std::string& label, const std::string& value) const {
  const auto it = labels_.find(label);
  if (it != labels_.end() && it->second.kept.contains(value)) return value;
  const bool room = it == labels_.end() || it->second.kept.size() < LimitOf(label);
  const bool offered = it != labels_.end() && it->second.candidates.contains(value);
  if (!offered && room && IsAcceptableLabelValue(value, limits_.max_value_bytes)) return value;
  return kFoldedLabelValue;
}

std::map<std::string, uint64_t> LabelFolder::FoldedCounts() const {
  std::map<std::string, uint64_t> counts;
  for (const auto& [name, label] : labels_) counts[name] = label.folded;
  return counts;
}

void SeriesMerger::Add(metrics::Labels labels, double value) {
  auto [it, added] = series_.try_emplace(std::move(labels), value);
  if (added) return;
  switch (merge_) {
    case Merge::kSum:
      it->second += value;
      break;
    case Merge::kMin:
      it->second = std::min(it->second, value);
      break;
    case Merge::kMax:
      it->second = std::max(it->second, value);
      break;
  }
}

void SeriesMerger::AppendTo(metrics::MetricFamily& family) && {
  for (auto& [labels, value] : series_) {
    family.series.push_back({.labels = labels, .value = value});
  }
  series_.clear();
}

}  // namespace fscanary::collector
