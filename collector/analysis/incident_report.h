#pragma once
// `fscanary report SUSPECT`: an incident report on one suspect, fit to send
// to a kernel maintainer or a bug tracker, in plain text and JSON: the
// conjunction, the kernel releases with the first bad and last good ones
// seen, the configurations and command lines involved, the counts and
// exposure behind every number, representative evidence summaries (what
// findings carry, nothing from the scratch blocks), matching known bugs, and
// how the numbers were computed. Pure; thread-safe for distinct calls. Every
// string in it may come from agents: a terminal printer must escape it.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/analysis.h"
#include "collector/analysis/epoch_values.h"

namespace fscanary::analysis {

// What one finding carries that a report may quote.
struct EvidenceSummary {
  std::string host;
  std::string kind;
  std::string checker;
  std::string target;
  uint64_t offset = 0;
  uint64_t block_size = 0;
  int64_t detected_unix_nanos = 0;
  std::string summary;
};

// Lines naming the known bugs a host epoch (its attributes) may be exposed to.
using KnownBugMatcher = std::function<std::vector<std::string>(
    std::span<const std::pair<std::string, std::string>> attributes)>;

struct IncidentInput {
  const EpochValues* values = nullptr;
  const AnalysisResult* analysis = nullptr;
  const AnalysisOptions* options = nullptr;
  size_t suspect = 0;                     // index into analysis->suspects
  std::vector<EvidenceSummary> evidence;  // any hosts'; the report keeps the suspect's
  KnownBugMatcher known_bugs;             // may be empty
  size_t max_evidence = 5;
};

struct ReleaseCount {
  std::string kernel;
  uint64_t epochs = 0;
  uint64_t events = 0;
  double exposure_bytes = 0;
};

struct Configuration {
  std::vector<AttributeValue> attributes;  // the named ones (no CONFIG_ options)
  uint64_t events = 0;
  uint64_t hosts = 0;
};

struct CommandLine {
  std::string value;
  uint64_t events = 0;
};

struct IncidentReport {
  Suspect suspect;
  size_t rank = 0;  // 1-based
  uint64_t fleet_hosts = 0;
  uint64_t fleet_events = 0;
  double fleet_exposure_bytes = 0;
  // Releases within the suspect's other conditions, in version order.
  std::vector<AttributeValue> context;
  std::vector<ReleaseCount> releases;
  std::optional<std::string> first_bad_seen;
  std::optional<std::string> last_bad_seen;
  std::optional<std::string> last_good_seen;  // the latest clean release before the first bad
  std::optional<std::string> first_good_after_seen;  // the first clean release after the last bad
  // The engine's bracket (top suspect only): clean by a significance test.
  std::optional<std::string> last_clean;
  std::optional<std::string> first_clean_after;
  std::string kernel_statement;
  std::vector<Configuration> configurations;   // of the epochs with events, most events first
  std::vector<AttributeValue> config_options;  // kernel CONFIG_ options the suspect implies
  std::vector<CommandLine> command_lines;      // kernel_cmdline of the epochs with events
  std::vector<EvidenceSummary> evidence;
  std::vector<std::string> known_bugs;
  std::vector<std::string> method;  // how the numbers were computed
};

// "3" (the third suspect) or "kernel=5.15.3,scheduler=none" (a suspect with
// exactly these attributes, or one of its aliases or indistinguishable
// alternatives). NotFound naming what was asked; InvalidArgument for text
// that is neither.
absl::StatusOr<size_t> FindSuspect(const AnalysisResult& analysis, const std::string& text);

absl::StatusOr<IncidentReport> BuildIncidentReport(const IncidentInput& input);

std::string FormatIncidentText(const IncidentReport& report);
std::string FormatIncidentJson(const IncidentReport& report);

}  // namespace fscanary::analysis
