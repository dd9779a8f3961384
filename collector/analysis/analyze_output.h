#pragma once
// What `fscanary analyze` reports, whether the CLI read an inventory file or
// the collector analysed its own store: the engine's suspects, then fix
// confirmation for every change of attributes the host epochs show. One path
// for both, so that a fleet reads the same from a file and live. Pure;
// thread-safe for distinct calls.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/analysis.h"
#include "collector/analysis/fix_confirmation.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

// Whether looking at the fleet host by host (plan, report, fix confirmation)
// fits in memory: every attribute value of every epoch is materialised.
bool FitsHostByHost(const Fleet& fleet);

struct AnalyzeOutcome {
  AnalysisResult result;
  // Fix confirmation; nullopt when no epoch carries a start time (nothing
  // says which of a host's epochs follows which), and, with a note in
  // `result`, when the fleet is too large to look at host by host.
  std::optional<std::vector<ChangeReport>> changes;
};

// AnalyzeFleet's errors (options out of range).
absl::StatusOr<AnalyzeOutcome> AnalyzeWithChanges(const Fleet& fleet,
                                                  const AnalysisOptions& options);

// FormatText, then FormatChangesText (when there are start times).
std::string FormatAnalyzeText(const AnalyzeOutcome& outcome);
// FormatJson's document, with fix confirmation as its last member "changes"
// (when there are start times).
std::string FormatAnalyzeJson(const AnalyzeOutcome& outcome);

}  // namespace fscanary::analysis
