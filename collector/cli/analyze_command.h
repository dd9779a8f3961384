#pragma once
// `fscanary analyze`: reads host epochs, runs the correlation engine, prints
// the suspects as a table or as JSON. Today from a JSON-lines file; the live
// form (against a collector) will produce the same output.

#include <iosfwd>
#include <string>

#include "absl/status/status.h"
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

}  // namespace fscanary::cli
