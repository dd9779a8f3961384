#pragma once
// The attribute values of each host epoch, row by row (the Fleet stores them
// by column), and whether an epoch holds a value the analysis names,
// including the kernel series and ranges it derives from the release. For the
// planner, fix confirmation and the incident report, which look at hosts
// rather than at sets. Immutable once built; thread-safe to read.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "collector/analysis/analysis.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

class EpochValues {
 public:
  // `options` names the kernel attribute and the derived series and range
  // attributes, as AnalyzeFleet was given them. Keeps a reference to `fleet`.
  EpochValues(const Fleet& fleet, const AnalysisOptions& options);

  const Fleet& fleet() const { return fleet_; }
  // The epoch's values, ordered by attribute id.
  std::span<const ValueId> Row(uint32_t epoch) const;
  std::optional<ValueId> Of(uint32_t epoch, AttributeId attribute) const;
  // The text of `attribute` in `epoch`, derived ones included; nullopt when unset.
  std::optional<std::string> Text(uint32_t epoch, const std::string& attribute) const;
  bool Holds(uint32_t epoch, const AttributeValue& value) const;
  bool HoldsAll(uint32_t epoch, const std::vector<AttributeValue>& values) const;
  // name -> value of every attribute the epoch holds (received ones only).
  std::vector<std::pair<std::string, std::string>> Attributes(uint32_t epoch) const;

  // Each host's epochs in time order (by start; epochs without a start keep
  // the fleet's order, after those with one).
  const std::vector<std::vector<uint32_t>>& HostEpochs() const { return host_epochs_; }
  // Events of every kind in each epoch (or of one kind, when the options name it).
  uint64_t Events(uint32_t epoch) const { return events_[epoch]; }

  // Whether `attribute` is one the analysis derives from the kernel release.
  bool IsKernelDerived(const std::string& attribute) const;

 private:
  const Fleet& fleet_;
  AnalysisOptions options_;
  bool derived_series_ = false;
  std::optional<AttributeId> kernel_;
  std::vector<uint32_t> row_start_;
  std::vector<ValueId> rows_;
  std::vector<std::vector<uint32_t>> host_epochs_;
  std::vector<uint64_t> events_;
};

}  // namespace fscanary::analysis
