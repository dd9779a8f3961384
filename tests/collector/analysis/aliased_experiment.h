#pragma once
// The simulated aliased fleet the planner's and fix confirmation's tests share:
// 300 hosts, of which 40 carry both kernel=5.15.3 and scheduler=none (and no
// other host either), with the cause planted on one of the two.

#include <cstdint>

#include "collector/analysis/analysis.h"
#include "tests/sim/experiment_sim.h"

namespace fscanary::analysis::testing {

inline constexpr uint32_t kHosts = 300;
inline constexpr uint32_t kAliased = 40;
inline constexpr double kRate = 0.01;   // events per host-day where the cause holds
inline constexpr double kHistory = 21;  // days before the plan or the change
inline constexpr uint64_t kSeeds = 10;
inline const AttributeValue kScheduler{"scheduler", "none"};
inline const AttributeValue kKernel{"kernel", "5.15.3"};

inline fleet_sim::ExperimentFleet AliasedFleet(const AttributeValue& cause, uint64_t seed) {
  return fleet_sim::ExperimentFleet(
      fleet_sim::AliasedHosts(kHosts, kAliased, seed),
      fleet_sim::ExperimentCause{.conditions = {{cause.attribute, cause.value}},
                                 .events_per_host_day = kRate},
      seed);
}

}  // namespace fscanary::analysis::testing
