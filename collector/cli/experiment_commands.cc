#include "collector/cli/experiment_commands.h"

#include <cerrno>
#include <fstream>
#include <ostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "collector/analysis/epoch_values.h"
#include "collector/analysis/experiment_format.h"
#include "collector/analysis/incident_report.h"
#include "collector/analysis/planner.h"
#include "collector/cli/terminal_text.h"
#include "collector/knownbugs/matcher.h"
#include "common/status.h"
#include "nlohmann/json.hpp"

namespace fscanary::cli {
namespace {

struct Analysed {
  analysis::Fleet fleet;
  analysis::AnalysisResult result;
};

absl::StatusOr<Analysed> Analyse(const AnalyzeRequest& request, std::ostream& err) {
  absl::StatusOr<analysis::Fleet> fleet = LoadFleet(request, err);
  if (!fleet.ok()) return fleet.status();
  if (!FitsHostByHost(*fleet)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(request.input, ": too large a fleet to look at host by host"));
  }
  absl::StatusOr<analysis::AnalysisResult> result = analysis::AnalyzeFleet(*fleet, request.options);
  if (!result.ok()) return result.status();
  return Analysed{std::move(*fleet), std::move(*result)};
}

// Evidence summaries from `fscanary findings --json` (ListFindingsResponse in
// protobuf's JSON with proto field names; 64-bit integers as strings).
absl::StatusOr<std::vector<analysis::EvidenceSummary>> ReadFindings(const std::string& path) {
  std::ifstream file(path);
  if (!file.is_open()) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  const nlohmann::json document = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not the JSON of `fscanary findings --json`"));
  }
  const auto text = [](const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const auto number = [&](const nlohmann::json& object, const char* key) {
    const auto it = object.find(key);
    if (it == object.end()) return uint64_t{0};
    if (it->is_number_unsigned()) return it->get<uint64_t>();
    uint64_t value = 0;
    return it->is_string() && absl::SimpleAtoi(it->get<std::string>(), &value) ? value : 0;
  };
  std::vector<analysis::EvidenceSummary> evidence;
  const auto findings = document.find("findings");
  if (findings == document.end()) return evidence;
  if (!findings->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": \"findings\" must be a list"));
  }
  for (const nlohmann::json& stored : *findings) {
    if (!stored.is_object() || !stored.contains("finding") || !stored["finding"].is_object()) {
      continue;
    }
    const nlohmann::json& finding = stored["finding"];
    evidence.push_back(
        {.host = text(stored, "agent_id"),
         .kind = text(finding, "kind"),
         .checker = text(finding, "checker"),
         .target = text(finding, "target"),
         .offset = number(finding, "offset"),
         .block_size = number(finding, "block_size"),
         .detected_unix_nanos = static_cast<int64_t>(number(finding, "detected_unix_nanos")),
         .summary = text(finding, "evidence_summary")});
  }
  return evidence;
}

std::vector<std::string> MatchKnownBugs(
    std::span<const std::pair<std::string, std::string>> attributes) {
  knownbugs::HostEpoch epoch{.attributes = {attributes.begin(), attributes.end()}};
  std::vector<std::string> lines;
  for (const knownbugs::Match& match : knownbugs::MatchKnownBugs(epoch)) {
    lines.push_back(knownbugs::Describe(match));
  }
  return lines;
}

}  // namespace

absl::Status RunPlan(const PlanRequest& request, std::ostream& out, std::ostream& err) {
  absl::StatusOr<Analysed> analysed = Analyse(request.analyze, err);
  if (!analysed.ok()) return analysed.status();
  absl::StatusOr<size_t> suspect = analysis::FindSuspect(analysed->result, request.suspect);
  if (!suspect.ok()) return suspect.status();
  const analysis::EpochValues values(analysed->fleet, request.analyze.options);
  absl::StatusOr<analysis::Plan> plan =
      analysis::PlanExperiments(values, analysed->result, *suspect,
                                {.within_days = request.within_days,
                                 .power = request.power,
                                 .fix_hosts = request.fix_hosts,
                                 .fix = {.confidence = request.analyze.options.confidence},
                                 .alpha = request.analyze.options.productive_alpha,
                                 .kernel_attribute = request.analyze.options.kernel_attribute});
  if (!plan.ok()) return plan.status();
  if (request.analyze.json) {
    out << analysis::FormatPlanJson(*plan);
  } else {
    out << TerminalSafeLines(analysis::FormatPlanText(*plan));
  }
  out.flush();
  return absl::OkStatus();
}

absl::Status RunReport(const ReportRequest& request, std::ostream& out, std::ostream& err) {
  std::vector<analysis::EvidenceSummary> evidence;
  if (!request.findings_file.empty()) {
    absl::StatusOr<std::vector<analysis::EvidenceSummary>> read =
        ReadFindings(request.findings_file);
    if (!read.ok()) return read.status();
    evidence = std::move(*read);
  }
  absl::StatusOr<Analysed> analysed = Analyse(request.analyze, err);
  if (!analysed.ok()) return analysed.status();
  absl::StatusOr<size_t> suspect = analysis::FindSuspect(analysed->result, request.suspect);
  if (!suspect.ok()) return suspect.status();
  const analysis::EpochValues values(analysed->fleet, request.analyze.options);
  absl::StatusOr<analysis::IncidentReport> report =
      analysis::BuildIncidentReport({.values = &values,
                                     .analysis = &analysed->result,
                                     .options = &request.analyze.options,
                                     .suspect = *suspect,
                                     .evidence = std::move(evidence),
                                     .known_bugs = MatchKnownBugs});
  if (!report.ok()) return report.status();
  if (request.analyze.json) {
    out << analysis::FormatIncidentJson(*report);
  } else {
    out << TerminalSafeLines(analysis::FormatIncidentText(*report));
  }
  out.flush();
  return absl::OkStatus();
}

}  // namespace fscanary::cli
