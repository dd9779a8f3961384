#include "collector/analysis/analyze_output.h"

#include <algorithm>
#include <cmath>

#include "collector/analysis/epoch_values.h"
#include "collector/analysis/experiment_format.h"
#include "collector/analysis/report.h"
#include "nlohmann/json.hpp"

namespace fscanary::analysis {
namespace {

// Attribute values of all epochs together held row by row: 4 bytes each.
constexpr size_t kMaxHostByHostCells = 64'000'000;

}  // namespace

bool FitsHostByHost(const Fleet& fleet) {
  size_t cells = 0;
  for (ValueId v = 0; v < fleet.value_count(); ++v) cells += fleet.posting(v).count();
  return cells <= kMaxHostByHostCells;
}

absl::StatusOr<AnalyzeOutcome> AnalyzeWithChanges(const Fleet& fleet,
                                                  const AnalysisOptions& options) {
  absl::StatusOr<AnalysisResult> result = AnalyzeFleet(fleet, options);
  if (!result.ok()) return result.status();
  AnalyzeOutcome outcome{.result = *std::move(result)};
  const auto starts = fleet.start_seconds();
  if (std::none_of(starts.begin(), starts.end(), [](double s) { return !std::isnan(s); })) {
    return outcome;
  }
  if (!FitsHostByHost(fleet)) {
    outcome.result.notes.push_back(
        "Fix confirmation skipped: the fleet is too large to look at host by host.");
    return outcome;
  }
  const EpochValues values(fleet, options);
  outcome.changes = ConfirmFixes(values, options.exposure, {.confidence = options.confidence});
  return outcome;
}

std::string FormatAnalyzeText(const AnalyzeOutcome& outcome) {
  std::string text = FormatText(outcome.result);
  if (outcome.changes) text += FormatChangesText(*outcome.changes);
  return text;
}

std::string FormatAnalyzeJson(const AnalyzeOutcome& outcome) {
  if (!outcome.changes) return FormatJson(outcome.result);
  // One document: fix confirmation as its last member.
  auto document = nlohmann::ordered_json::parse(FormatJson(outcome.result));
  document["changes"] = nlohmann::ordered_json::parse(FormatChangesJson(*outcome.changes));
  return document.dump(2) + "\n";
}

}  // namespace fscanary::analysis
