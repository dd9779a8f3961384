#pragma once
// Adaptive verification: after a corruption, which hosts should verify faster,
// and by how much, so that the fleet names (or clears) the cause in days.
// Pure: the fleet now, its corruptions and the current analysis in, a boost
// factor per host out; no I/O, no clock, deterministic. Thread-safe.
//
// The rule (docs/CORRELATION.md, "Adaptive verification"): a victim of a
// recent corruption is asked to verify up to `max_factor` times faster; then
// groups of hosts, densest in corruptions per host first: those sharing a lead
// (one of the top suspects, not yet confirmed, still standing out, with a
// recent event among its hosts) and, if configured, a victim's neighbourhoods.
// The fleet's extra verification I/O never exceeds `max_extra_io_share` of its
// baseline. A lead that is confirmed (q below `confirmed_q`), refuted (p above
// `lead_p`, or gone from the analysis) or faded (no event on its hosts for
// `fade_after_s`) boosts nobody. A finding is one agent's word: a group whose
// corruptions come from fewer than `independent_victims` hosts is boosted at
// most `lone_victim_factor`, so that one agent forging findings cannot make
// its neighbours (other tenants' VMs) verify `max_factor` times faster.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/analysis.h"

namespace fscanary::adaptive {

// The fleet as it is now: each host's current epoch. Implemented over the
// collector's store, or over a simulated fleet. Read-only; the policy keeps no
// reference past DecideBoosts.
class FleetNow {
 public:
  virtual ~FleetNow() = default;
  virtual size_t host_count() const = 0;
  // Verification I/O the host does per unit of time at its configured rate, in
  // any unit that is the same for every host (bytes per day, say): what the
  // extra-I/O budget is measured in.
  virtual double baseline_io(size_t host) const = 0;
  // The host's value for an attribute (kernel, scheduler, CONFIG_..., ...), or
  // nullopt when it has none. Derived kernel series and ranges need not be
  // given: the policy derives them from the kernel release, as the engine does.
  virtual std::optional<std::string_view> ValueOf(size_t host,
                                                  std::string_view attribute) const = 0;
};

struct Corruption {
  size_t host = 0;    // into FleetNow
  double time_s = 0;  // when it was found, on the clock `now_s` is on
};

struct PolicyOptions {
  // The most any host is asked for: verification rate times this. Each agent
  // clamps it again to its own configured ceiling.
  double max_factor = 10;
  // The fleet's extra verification I/O, as a share of its baseline.
  double max_extra_io_share = 0.2;
  // How many of the top-ranked suspects can be leads.
  size_t leads = 1;
  // A victim stays boosted this long after its last corruption.
  double victim_window_s = 7 * 86400.0;
  // A lead fades when none of its hosts had a corruption for this long.
  double fade_after_s = 14 * 86400.0;
  // A suspect with q below this is confirmed: the boost has done its job.
  double confirmed_q = 0.05;
  // A suspect whose p-value is above this no longer stands out: refuted.
  double lead_p = 0.01;
  // Neighbourhoods, each a list of attributes: the hosts that share all of a
  // recent victim's values of them (e.g. kernel_series, driver, scheduler)
  // form a group. This is what acts before the analysis has a lead at all:
  // one event is not a pattern. A broader neighbourhood (kernel_series alone)
  // gets what the denser ones leave, and keeps hosts that differ from the
  // victim in verification, so the engine can tell which conditions matter.
  // Empty: no neighbours.
  std::vector<std::vector<std::string>> neighbourhoods;
  // Trust boundary (docs/SECURITY.md): a group, a lead's or a neighbourhood,
  // in which fewer than this many distinct hosts reported corruptions (for a
  // neighbourhood: recent victims; for a lead: any among its hosts) is
  // boosted at most `lone_victim_factor`. The victim itself may still get
  // `max_factor`: that costs its own host only. 1, or a lone_victim_factor
  // of max_factor: no cap.
  size_t independent_victims = 2;
  double lone_victim_factor = 2;
  std::string kernel_attribute = "kernel";
  std::string kernel_series_attribute = "kernel_series";
  std::string kernel_range_attribute = "kernel_range";
};

enum class LeadState { kBoosted, kConfirmed, kRefuted, kFaded };

struct Lead {
  std::vector<analysis::AttributeValue> attributes;  // as the analysis names it
  LeadState state = LeadState::kBoosted;
  size_t hosts = 0;  // hosts that share it now
};

struct Decision {
  std::vector<double> factors;  // per host of FleetNow, >= 1 (1: no boost)
  std::vector<Lead> leads;      // the top suspects considered, in rank order
  size_t victims_boosted = 0;
  size_t sharers_boosted = 0;     // hosts boosted for a lead and not as victims
  size_t neighbours_boosted = 0;  // hosts boosted as a victim's neighbours only
  // Groups held to lone_victim_factor for want of independent victims.
  size_t groups_capped = 0;
  double extra_io_share = 0;  // sum((factor - 1) * baseline) / sum(baseline)
};

// InvalidArgument for options out of range or a corruption naming no host.
absl::StatusOr<Decision> DecideBoosts(const FleetNow& fleet,
                                      std::span<const Corruption> corruptions,
                                      const analysis::AnalysisResult& analysis, double now_s,
                                      const PolicyOptions& options);

// Whether the host holds an attribute value as the analysis names it: a value
// it has, or a kernel series or range derived from its kernel release.
bool HostHolds(const FleetNow& fleet, size_t host, const analysis::AttributeValue& value,
               const PolicyOptions& options);

}  // namespace fscanary::adaptive
