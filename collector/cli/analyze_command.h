#pragma once
// `fscanary analyze`: reads host epochs, runs the correlation engine, prints
// the suspects as a table or as JSON, then fix confirmation for every change
// of attributes the epochs show (when they carry start times). From a
// JSON-lines file here; the live form (against a collector) prints the
// report the collector makes the same way (analysis/analyze_output.h).

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/analysis/analysis.h"
#include "collector/analysis/jsonl_reader.h"

namespace fscanary::cli {

struct AnalyzeRequest {
  std::string input;  // a path, or "-" for standard input
  bool json = false;
  analysis::BadLinePolicy on_bad_line = analysis::BadLinePolicy::kFail;
  analysis::AnalysisOptions options;
};

// Writes the report to `out`, skipped lines and notes to `err`.
// InvalidArgument or NotFound for problems with the input or the options.
absl::Status RunAnalyze(const AnalyzeRequest& request, std::ostream& out, std::ostream& err);

// The fleet of request.input, with skipped lines reported on `err`; an error
// names the input. Shared by analyze, plan and report.
absl::StatusOr<analysis::Fleet> LoadFleet(const AnalyzeRequest& request, std::ostream& err);

}  // namespace fscanary::cli
