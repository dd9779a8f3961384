#pragma once
// A simulated fleet run forward in calendar time, to measure how long the
// correlation engine takes from the first corruption to a confirmed cause,
// with and without adaptive verification. Corruptions on the planted cause's
// epochs arrive at a rate proportional to the bytes those epochs verify, so a
// host asked to verify ten times faster finds them ten times sooner (and its
// exposure, which the engine divides by, grows ten times too). Background
// corruptions, which no cause explains, arrive the same way on every epoch:
// a boost finds them sooner too, so boosting the wrong hosts wastes I/O and
// feeds the engine events that point nowhere. A fleet without a cause (a null
// run) has only those, and any significant suspect there is a false one.
//
// Each epoch draws its events from its own streams (seeded by the fleet seed
// and the epoch, one for the cause and one for the background), as thresholds
// on its cumulative hazard: runs with and without adaptation see the same
// corruptions in the same order, only sooner or later, so their difference is
// the policy's and not luck's.

#include <cstdint>
#include <functional>
#include <span>

#include "collector/adaptive/policy.h"
#include "collector/analysis/analysis.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::fleet_sim {

// What decides the boosts: adaptive::DecideBoosts, or a stand-in in tests
// (one that boosts the wrong hosts, to show the measures notice).
using BoostPolicy = std::function<absl::StatusOr<adaptive::Decision>(
    const adaptive::FleetNow&, std::span<const adaptive::Corruption>,
    const analysis::AnalysisResult&, double now_s, const adaptive::PolicyOptions&)>;

// DecideBoosts with its factors rotated by half the fleet onto other hosts: the
// same extra I/O, aimed wrong. The control that a measure of the policy's aim
// must tell from the policy.
absl::StatusOr<adaptive::Decision> MisdirectedBoosts(
    const adaptive::FleetNow& fleet, std::span<const adaptive::Corruption> corruptions,
    const analysis::AnalysisResult& analysis, double now_s, const adaptive::PolicyOptions& options);

struct CalendarOptions {
  bool adaptive = false;
  adaptive::PolicyOptions policy;
  BoostPolicy decide = adaptive::DecideBoosts;
  // Corruptions no cause explains, fleet-wide per week at the baseline rate,
  // spread over every epoch by bytes verified.
  double background_per_week = 0;
  double agent_ceiling = 10;    // each agent clamps the asked boost to this
  double step_days = 1.0 / 24;  // time step; analyses run at the end of a step with events
  double horizon_days = 300;    // give up this long after the first event
  double confirmed_q = 0.05;    // the planted cause on top with q below this: found
  analysis::AnalysisOptions analysis;
};

struct CalendarRun {
  bool first_event = false;  // false: no corruption before the fleet's end
  bool found = false;        // false: not found within the horizon or the fleet's days
  double first_event_day = 0;
  double days_to_found = 0;  // from the first event; to the end of the run when not found
  // From the first event to the first top suspect of any name with q below
  // confirmed_q (often a broader or differently named set than the cause);
  // days_to_found when there was none before.
  double days_to_significant = 0;
  bool significant = false;  // some top suspect had q below confirmed_q
  // The first such suspect touched none of the planted values (in a null run:
  // there was one at all). It is what an SRE would have been paged with.
  bool wrong_significant = false;
  uint32_t events = 0;             // planted corruptions seen by then
  uint32_t background_events = 0;  // and background ones
  uint32_t analyses = 0;
  double extra_io_share = 0;  // extra verified bytes / baseline bytes, first event to the end
  double peak_extra_io_share = 0;
  // Where the extra bytes went: the share verified on affected epochs, and
  // the affected epochs' share of the baseline bytes (what boosting hosts at
  // random would give), first event to the end. Their ratio is the policy's
  // aim; 0 when there was no extra I/O or no cause.
  double extra_io_on_affected = 0;
  double affected_baseline_share = 0;
  double final_q = 1;  // of the top suspect at the end
};

// `fleet` comes from Simulate(), with a cause or without one (a null run); its
// own placed events are not used. Calls `progress` (may be empty) after each
// analysis.
CalendarRun RunCalendar(
    const SimulatedFleet& fleet, uint64_t seed, const CalendarOptions& options,
    const std::function<void(double day, const analysis::AnalysisResult&)>& progress = nullptr);

}  // namespace fscanary::fleet_sim
