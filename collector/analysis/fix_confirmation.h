#pragma once
// Fix confirmation: for every change of attributes seen in host epochs (hosts
// moving from one kernel, scheduler, ... to another), did the corruption rate
// of the hosts that changed fall, against their own rate before and the rate
// of hosts like them that did not change? Pure: a fleet in, one report per
// change out. Thread-safe for distinct calls. docs/CORRELATION.md, "Fix
// confirmation", has the test.
//
// The test is the engine's conditional Poisson rate comparison with exposure,
// against a null rate ratio r0 (`fixed_ratio`, 1/2): with `a` events in the
// changed hosts' exposure after the change x_a, and `r` events in the
// reference exposure x_r (the changed hosts just before the change, and the
// unchanged hosts like them), under ratio r0 `a` is Binomial(a + r,
// r0 x_a / (r0 x_a + x_r)). "fixed": so few events after that the ratio is
// below r0 at the stated confidence (lower tail); "not fixed": so many that
// it is above r0 (upper tail); otherwise "not yet known". Across the changes,
// each verdict's p-values are turned into Benjamini–Hochberg q-values and the
// verdict is given where q, not p, is within 1 - confidence.

#include <cstdint>
#include <string>
#include <vector>

#include "collector/analysis/analysis.h"
#include "collector/analysis/epoch_values.h"

namespace fscanary::analysis {

struct FixOptions {
  double confidence = 0.95;  // one-sided, for either verdict
  double fixed_ratio = 0.5;  // the rate after, relative to before, that divides the verdicts
  size_t max_changes = 10;   // reported, most events in the reference first
};

enum class FixVerdict { kFixed, kNotFixed, kNotYetKnown };
const char* FixVerdictName(FixVerdict verdict);  // "fixed", "not fixed", "not yet known"

// One attribute that hosts changed; `from` or `to` is empty where the
// attribute was unset on that side.
struct AttributeChange {
  std::string attribute;
  std::string from;
  std::string to;
};

struct ChangeReport {
  // The named attributes that changed together (kernel, scheduler, ...); when
  // only kernel config options changed, those.
  std::vector<AttributeChange> changes;
  uint64_t config_changes = 0;  // CONFIG_ options that changed along with a named attribute
  uint64_t hosts = 0;           // hosts that made the change
  double first_change_seconds = 0;
  double last_change_seconds = 0;
  // The changed hosts in the epoch just before their change, and from it on.
  uint64_t events_before = 0;
  double exposure_before = 0;
  uint64_t events_after = 0;
  double exposure_after = 0;
  // Unchanged hosts like them: epochs of hosts that never made this change
  // holding every value that all the changed hosts held just before it.
  uint64_t control_hosts = 0;
  uint64_t events_control = 0;
  double exposure_control = 0;
  // After against the reference (before and control together).
  double rate_ratio = 0;
  double ci_low = 0;
  double ci_high = 0;  // +infinity when the reference has no events
  double p_fixed = 1;
  double p_not_fixed = 1;
  // Benjamini–Hochberg over the changes tested (reported or not), per verdict.
  double q_fixed = 1;
  double q_not_fixed = 1;
  FixVerdict verdict = FixVerdict::kNotYetKnown;
  std::string statement;
};

// Changes are found between consecutive epochs of one host, in the order of
// their start times; epochs without a start time are left out. Only changes
// with events before, after or on unchanged hosts like them are reported.
// Exposure is in the unit `values` was built with (bytes unless seconds).
std::vector<ChangeReport> ConfirmFixes(const EpochValues& values, ExposureUnit unit,
                                       const FixOptions& options);

// The verdict for counts and exposures already gathered: the same test for one
// change alone (no correction for others).
struct FixTest {
  double rate_ratio = 0, ci_low = 0, ci_high = 0, p_fixed = 1, p_not_fixed = 1;
  FixVerdict verdict = FixVerdict::kNotYetKnown;
};
FixTest TestFix(uint64_t events_after, double exposure_after, uint64_t events_reference,
                double exposure_reference, const FixOptions& options);

}  // namespace fscanary::analysis
