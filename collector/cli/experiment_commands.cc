#include "collector/cli/experiment_commands.h"

#include <cerrno>
#include <fstream>
#include <iterator>
#include <optional>
#include <ostream>

#include "absl/strings/str_cat.h"
#include "collector/analysis/analyze_output.h"
#include "collector/analysis/epoch_values.h"
#include "collector/analysis/experiment_format.h"
#include "collector/analysis/incident_report.h"
#include "collector/analysis/planner.h"
#include "collector/cli/terminal_text.h"
#include "collector/fleet/host_attributes.h"
#include "collector/knownbugs/matcher.h"
#include "collector/store/store.h"
#include "common/status.h"
#include "fscanary/v1/query.pb.h"
#include "google/protobuf/util/json_util.h"

namespace fscanary::cli {
namespace {

struct Analysed {
  analysis::Fleet fleet;
  analysis::AnalysisResult result;
};

absl::StatusOr<Analysed> Analyse(const AnalyzeRequest& request, std::ostream& err) {
  absl::StatusOr<analysis::Fleet> fleet = LoadFleet(request, err);
  if (!fleet.ok()) return fleet.status();
  if (!analysis::FitsHostByHost(*fleet)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(request.input, ": too large a fleet to look at host by host"));
  }
  absl::StatusOr<analysis::AnalysisResult> result = analysis::AnalyzeFleet(*fleet, request.options);
  if (!result.ok()) return result.status();
  return Analysed{std::move(*fleet), std::move(*result)};
}

// Evidence summaries from `fscanary findings --json` (ListFindingsResponse in
// protobuf's JSON with proto field names), parsed as that message so that a
// wrong type, an unknown key (another command's output) or a bad number is
// refused by name instead of read as nothing; `{}` is how an empty list prints. Only corruptions
// are evidence (of `kind` when given, as the analysis counts them); the agent's own I/O trouble is
// not.
absl::StatusOr<std::vector<analysis::EvidenceSummary>> ReadFindings(
    const std::string& path, const std::optional<std::string>& kind) {
  std::ifstream file(path);
  if (!file.is_open()) return ErrnoToStatus(errno, absl::StrCat("open ", path));
  const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  if (file.bad()) return ErrnoToStatus(errno, absl::StrCat("read ", path));
  v1::ListFindingsResponse response;
  if (const auto parsed = google::protobuf::util::JsonStringToMessage(text, &response);
      !parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": not the JSON of `fscanary findings --json`: ", std::string(parsed.message())));
  }
  std::vector<analysis::EvidenceSummary> evidence;
  for (int index = 0; index < response.findings_size(); ++index) {
    const v1::StoredFinding& stored = response.findings(index);
    if (!stored.has_finding()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": findings[", index, "] has no \"finding\""));
    }
    const v1::Finding& finding = stored.finding();
    if (!store::IsCorruption(finding.kind())) continue;
    if (kind.has_value() && fleet::KindName(finding.kind()) != *kind) continue;
    evidence.push_back({.host = stored.agent_id(),
                        .kind = v1::FindingKind_Name(finding.kind()),
                        .checker = finding.checker(),
                        .target = finding.target(),
                        .offset = finding.offset(),
                        .block_size = finding.block_size(),
                        .detected_unix_nanos = finding.detected_unix_nanos(),
                        .summary = finding.evidence_summary()});
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
        ReadFindings(request.findings_file, request.analyze.options.kind);
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
