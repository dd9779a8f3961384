#pragma once
// Whether the correlation engine named the cause Cause2018() plants: shared by
// the scenario tests and the adaptive-verification benchmark, so both judge
// "found it" by the same rule.

#include <string_view>

#include "collector/analysis/analysis.h"

namespace fscanary::fleet_sim {

// The kernel release lies in 4.19-rc1..4.19.7 (the analysis' version order).
bool InCause2018Range(std::string_view release);

// The suspect is the planted conjunction, or an alias group containing it:
// every item is (an alias of) a planted value, and every planted condition
// (kernel, blk_mq, scheduler, driver) is named, implied or aliased. The kernel
// counts when named by a release in the range, the 4.19 series, or a range
// starting inside the planted one and ending in 4.19.
bool NamesCause2018(const analysis::Suspect& suspect);

}  // namespace fscanary::fleet_sim
