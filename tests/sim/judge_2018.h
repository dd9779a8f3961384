#pragma once
// Whether the correlation engine named a planted cause: shared by the scenario
// tests and the adaptive-verification benchmark, so both judge "found it" (and
// "a wrong suspect") by the same rule.

#include <string_view>

#include "collector/analysis/analysis.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::fleet_sim {

// The kernel release lies in 4.19-rc1..4.19.7 (the analysis' version order).
bool InCause2018Range(std::string_view release);

// The suspect is the planted conjunction, or an alias group containing it:
// every item is (an alias of) a planted value, and every planted condition is
// named, implied or aliased. A kernel range condition counts when named by a
// release in the range, by the kernel series both its ends lie in, or by a
// range starting inside the planted one and ending in the series of its end.
bool NamesCause(const analysis::Suspect& suspect, const PlantedCause& cause);

// NamesCause for Cause2018(): kernel, blk_mq, scheduler and driver.
bool NamesCause2018(const analysis::Suspect& suspect);

// Whether any item of the suspect, its aliases or its implied values is a
// planted value. A significant suspect that touches none is a wrong lead.
bool TouchesCause(const analysis::Suspect& suspect, const PlantedCause& cause);

}  // namespace fscanary::fleet_sim
