#pragma once
// `fscanary plan` (experiments that split a suspect's aliases, and how long a
// fix takes to confirm) and `fscanary report` (an incident report on one
// suspect), both from an inventory file as `fscanary analyze --input` reads.

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "collector/cli/analyze_command.h"

namespace fscanary::cli {

struct PlanRequest {
  AnalyzeRequest analyze;     // the input and the engine's options
  std::string suspect = "1";  // rank or attributes, as `report` takes it
  double within_days = 30;
  double power = 0.9;
  std::optional<uint64_t> fix_hosts;
};
absl::Status RunPlan(const PlanRequest& request, std::ostream& out, std::ostream& err);

struct ReportRequest {
  AnalyzeRequest analyze;
  std::string suspect;
  // `fscanary findings --json` output: evidence summaries to quote.
  std::string findings_file;
};
absl::Status RunReport(const ReportRequest& request, std::ostream& out, std::ostream& err);

}  // namespace fscanary::cli
