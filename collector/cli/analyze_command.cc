#include "collector/cli/analyze_command.h"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "collector/analysis/epoch_values.h"
#include "collector/analysis/experiment_format.h"
#include "collector/analysis/fix_confirmation.h"
#include "collector/analysis/report.h"
#include "collector/cli/terminal_text.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace fscanary::cli {
namespace {

constexpr size_t kBadLinesShown = 10;
// Attribute values of all epochs together held row by row: 4 bytes each.
constexpr size_t kMaxHostByHostCells = 64'000'000;

}  // namespace

bool FitsHostByHost(const analysis::Fleet& fleet) {
  size_t cells = 0;
  for (analysis::ValueId v = 0; v < fleet.value_count(); ++v) cells += fleet.posting(v).count();
  return cells <= kMaxHostByHostCells;
}

absl::StatusOr<analysis::Fleet> LoadFleet(const AnalyzeRequest& request, std::ostream& err) {
  const analysis::JsonlOptions read_options{.on_bad_line = request.on_bad_line};
  absl::StatusOr<analysis::JsonlFleet> read;
  if (request.input == "-") {
    read = analysis::ReadFleetJsonl(std::cin, read_options);
  } else {
    std::ifstream file(request.input);
    if (!file.is_open()) return ErrnoToStatus(errno, absl::StrCat("open ", request.input));
    read = analysis::ReadFleetJsonl(file, read_options);
  }
  if (!read.ok()) {
    return absl::Status(read.status().code(),
                        absl::StrCat(request.input, ": ", read.status().message()));
  }
  for (size_t i = 0; i < read->bad_lines.size() && i < kBadLinesShown; ++i) {
    err << request.input << ": skipped line " << read->bad_lines[i].line << ": "
        << TerminalSafe(read->bad_lines[i].reason) << "\n";
  }
  if (read->bad_lines.size() > kBadLinesShown) {
    err << request.input << ": skipped " << read->bad_lines.size() - kBadLinesShown
        << " more bad lines\n";
  }
  if (read->fleet.epoch_count() == 0) {
    return absl::InvalidArgumentError(absl::StrCat(request.input, ": no host epochs"));
  }
  return std::move(read->fleet);
}

absl::Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out, std::ostream& err) {
  absl::StatusOr<analysis::Fleet> fleet = LoadFleet(request, err);
  if (!fleet.ok()) return fleet.status();
  absl::StatusOr<analysis::AnalysisResult> result = analysis::AnalyzeFleet(*fleet, request.options);
  if (!result.ok()) return result.status();
  // Fix confirmation needs each host's epochs in time order.
  const auto starts = fleet->start_seconds();
  const bool timed = std::any_of(starts.begin(), starts.end(), [](double s) { return s == s; });
  std::vector<analysis::ChangeReport> changes;
  if (timed && FitsHostByHost(*fleet)) {
    const analysis::EpochValues values(*fleet, request.options);
    changes = analysis::ConfirmFixes(values, request.options.exposure,
                                     {.confidence = request.options.confidence});
  } else if (timed) {
    result->notes.push_back(
        "Fix confirmation skipped: the fleet is too large to look at host by host.");
  }
  if (request.json) {
    for (const std::string& note : result->notes) err << "note: " << TerminalSafe(note) << "\n";
    if (!timed) {
      out << analysis::FormatJson(*result);
    } else {
      // One document: fix confirmation as its last member.
      auto document = nlohmann::ordered_json::parse(analysis::FormatJson(*result));
      document["changes"] = nlohmann::ordered_json::parse(analysis::FormatChangesJson(changes));
      out << document.dump(2) << "\n";
    }
  } else {
    // Attribute values come from agents (through the JSONL file).
    std::string text = analysis::FormatText(*result);
    if (timed) text += analysis::FormatChangesText(changes);
    out << TerminalSafeLines(text);
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace fscanary::cli
