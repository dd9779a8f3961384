#include "collector/cli/analyze_command.h"

#include <cerrno>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "collector/analysis/analyze_output.h"
#include "collector/cli/terminal_text.h"
#include "common/status.h"

namespace fscanary::cli {
namespace {

constexpr size_t kBadLinesShown = 10;

}  // namespace

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
  absl::StatusOr<analysis::AnalyzeOutcome> outcome =
      analysis::AnalyzeWithChanges(*fleet, request.options);
  if (!outcome.ok()) return outcome.status();
  if (request.json) {
    for (const std::string& note : outcome->result.notes) {
      err << "note: " << TerminalSafe(note) << "\n";
    }
    out << analysis::FormatAnalyzeJson(*outcome);
  } else {
    // Attribute values come from agents (through the JSONL file).
    out << TerminalSafeLines(analysis::FormatAnalyzeText(*outcome));
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace fscanary::cli
