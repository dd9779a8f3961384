#pragma once
// `fscanary plan`: experiments on the fleet that answer what the data alone
// cannot yet. Pure: a fleet and its analysis in, proposals out. Thread-safe
// for distinct calls. docs/CORRELATION.md, "Experiments that split aliases",
// has the model.
//
// Splitting aliases: when a suspect's item is an alias group (values carried
// by exactly the same hosts, such as kernel=5.15.3 and scheduler=none), a
// change of one attribute on K of the hosts carrying the suspect separates
// the members that change from the ones that stay. Whichever is the cause,
// the engine can then name it alone: if the cause is a member that stays,
// once an event lands on a changed host; if it is a member that changed, once
// all events lie so far inside the unchanged hosts' share s of the exposure
// that s^events <= alpha / items (the engine's test for a narrower set). The
// planner proposes, per attribute that can be changed, the smallest K that
// separates within `within_days` at the observed rate, with `power`
// probability whichever member is the cause.
//
// Confirming a fix before it is made: for a change that removes the cause on
// N of the hosts carrying the suspect, the days until fix confirmation (the
// same test as ConfirmFixes) says "fixed" with `power` probability.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/analysis.h"
#include "collector/analysis/epoch_values.h"
#include "collector/analysis/fix_confirmation.h"

namespace fscanary::analysis {

struct PlanOptions {
  double within_days = 30;  // a split should separate within this long
  double power = 0.9;       // days are when the data shows it with this probability
  double max_days = 3650;   // no forecast beyond this
  // For the "before" question: the hosts a fix would be applied to; empty: a
  // table for a quarter, half, three quarters and all of the hosts.
  std::optional<uint64_t> fix_hosts;
  FixOptions fix;
  double alpha = 0.01;  // the engine's productive_alpha
  std::string kernel_attribute = "kernel";
};

struct SplitProposal {
  std::string attribute;  // change this attribute
  std::string from;
  std::string to;  // to this value (one the fleet already runs)
  uint64_t hosts_to_change = 0;
  uint64_t hosts_carrying = 0;          // hosts whose current epoch holds the suspect
  std::vector<AttributeValue> moving;   // alias members the change takes away
  std::vector<AttributeValue> staying;  // alias members the changed hosts keep
  // Whichever member is the cause, days (with `power` probability) and the
  // events expected on the carrying hosts by then.
  double days = 0;
  double days_if_moving_cause = 0;
  double days_if_staying_cause = 0;
  double expected_events = 0;
  bool within = false;  // separates within within_days
  std::string statement;
};

struct FixForecast {
  uint64_t hosts = 0;  // the fix applied to this many of the carrying hosts
  double days = 0;     // until "fixed" with `power` probability; +inf beyond max_days
  double expected_reference_events = 0;  // events in the reference by then
  std::string statement;
};

struct Plan {
  std::vector<AttributeValue> suspect;
  uint64_t hosts_carrying = 0;
  double events_per_host_day = 0;  // the suspect's observed rate on one carrying host
  double bytes_per_host_day = 0;
  std::vector<SplitProposal> splits;  // cheapest kind of change first
  std::vector<FixForecast> fix;
  std::vector<std::string> notes;
};

// `suspect` indexes analysis.suspects. NotFound when there is no such suspect.
absl::StatusOr<Plan> PlanExperiments(const EpochValues& values, const AnalysisResult& analysis,
                                     size_t suspect, const PlanOptions& options);

}  // namespace fscanary::analysis
