#pragma once
// A simulated fleet run forward in calendar time, to measure how long the
// correlation engine takes from the first corruption to a confirmed cause,
// with and without adaptive verification. Corruptions on the planted cause's
// epochs arrive at a rate proportional to the bytes those epochs verify, so a
// host asked to verify ten times faster finds them ten times sooner (and its
// exposure, which the engine divides by, grows ten times too).
//
// Each affected epoch draws its events from its own stream (seeded by the
// fleet seed and the epoch), as thresholds on its cumulative hazard: runs
// with and without adaptation see the same corruptions in the same order,
// only sooner or later, so their difference is the policy's and not luck's.

#include <cstdint>
#include <functional>

#include "collector/adaptive/policy.h"
#include "collector/analysis/analysis.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::fleet_sim {

struct CalendarOptions {
  bool adaptive = false;
  adaptive::PolicyOptions policy;
  double agent_ceiling = 10;    // each agent clamps the asked boost to this
  double step_days = 1.0 / 24;  // time step; analyses run at the end of a step with events
  double horizon_days = 300;    // give up this long after the first event
  double confirmed_q = 0.05;    // the planted cause on top with q below this: found
  analysis::AnalysisOptions analysis;
};

struct CalendarRun {
  bool first_event = false;  // false: the cause never fired before the fleet's end
  bool found = false;        // false: not found within the horizon or the fleet's days
  double first_event_day = 0;
  double days_to_found = 0;  // from the first event; to the end of the run when not found
  // From the first event to the first top suspect of any name with q below
  // confirmed_q (often a broader or differently named set than the cause);
  // days_to_found when there was none before.
  double days_to_significant = 0;
  uint32_t events = 0;  // planted corruptions seen by then
  uint32_t analyses = 0;
  double extra_io_share = 0;  // extra verified bytes / baseline bytes, first event to the end
  double peak_extra_io_share = 0;
  double final_q = 1;  // of the top suspect at the end
};

// `fleet` must come from Simulate() with a cause; its own placed events are
// not used. Calls `progress` (may be empty) after each analysis.
CalendarRun RunCalendar(
    const SimulatedFleet& fleet, uint64_t seed, const CalendarOptions& options,
    const std::function<void(double day, const analysis::AnalysisResult&)>& progress = nullptr);

}  // namespace fscanary::fleet_sim
