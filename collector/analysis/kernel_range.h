#pragma once
// Where along the kernel releases the rate changes: the last clean release
// before the first affected one, and the first clean one after the last
// affected one. Internal to the analysis.
//
// Within a context (the top suspect's attributes other than the kernel),
// releases are put in version order. The first and last releases with events
// bound the affected range as observed. Walking away from it, a block of
// adjacent releases counts as clean once its rate is significantly lower than
// the range's (the same exact conditional binomial test as everywhere else,
// one-sided, at half the error on each side, divided by the number of blocks
// that side could test): with few events a block must hold a lot of exposure,
// so the bracket is wide or open, and honest about it.

#include <optional>

#include "collector/analysis/analysis.h"
#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/event_index.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

struct KernelRangeInput {
  const Fleet* fleet = nullptr;
  const EpochWeights* weights = nullptr;
  const EpochWeights* byte_weights = nullptr;
  const EventIndex* events = nullptr;
  std::optional<BitsetView> context;      // nullopt: the whole fleet
  std::optional<BitsetView> kernel_item;  // the suspect's kernel release or series, if any
  std::vector<AttributeValue> context_labels;
  std::string kernel_attribute = "kernel";
  double confidence = 0.95;
};

KernelVersionReport ReportKernelVersions(const KernelRangeInput& input);

}  // namespace fscanary::analysis
