#include "collector/analysis/incident_report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/json_values.h"
#include "collector/analysis/kernel_version.h"

namespace fscanary::analysis {
namespace {

using json::Attributes;
using json::Json;
using json::Number;
using json::Optional;

constexpr const char* kCommandLineAttribute = "kernel_cmdline";

bool IsConfigName(const std::string& name) { return name.rfind("CONFIG_", 0) == 0; }

std::vector<AttributeValue> Sorted(std::vector<AttributeValue> values) {
  std::sort(values.begin(), values.end(), [](const AttributeValue& a, const AttributeValue& b) {
    return std::tie(a.attribute, a.value) < std::tie(b.attribute, b.value);
  });
  return values;
}

// The releases seen within the suspect's other conditions, and where events start and stop.
void CountReleases(const IncidentInput& input, IncidentReport& report) {
  const EpochValues& values = *input.values;
  const std::string& kernel = input.options->kernel_attribute;
  for (const AttributeValue& a : report.suspect.attributes) {
    if (a.attribute != kernel && !values.IsKernelDerived(a.attribute)) report.context.push_back(a);
  }
  std::map<std::string, ReleaseCount, bool (*)(std::string_view, std::string_view)> releases(
      [](std::string_view a, std::string_view b) { return KernelReleaseLess(a, b); });
  const Fleet& fleet = values.fleet();
  for (uint32_t e = 0; e < fleet.epoch_count(); ++e) {
    if (!values.HoldsAll(e, report.context)) continue;
    const std::optional<std::string> release = values.Text(e, kernel);
    if (!release.has_value()) continue;
    ReleaseCount& row = releases[*release];
    row.kernel = *release;
    ++row.epochs;
    row.events += values.Events(e);
    row.exposure_bytes += fleet.exposure_bytes()[e];
  }
  for (auto& [name, row] : releases) report.releases.push_back(std::move(row));
  const auto& rows = report.releases;
  const auto first =
      std::find_if(rows.begin(), rows.end(), [](const auto& r) { return r.events > 0; });
  if (first == rows.end()) return;
  const auto last =
      std::find_if(rows.rbegin(), rows.rend(), [](const auto& r) { return r.events > 0; });
  report.first_bad_seen = first->kernel;
  report.last_bad_seen = last->kernel;
  for (auto it = first; it != rows.begin();) {
    --it;
    if (it->exposure_bytes > 0) {
      report.last_good_seen = it->kernel;
      break;
    }
  }
  for (auto it = last.base(); it != rows.end(); ++it) {
    if (it->exposure_bytes > 0) {
      report.first_good_after_seen = it->kernel;
      break;
    }
  }
}

// The named configurations and command lines of the suspect's epochs with
// events, and the known bugs they match.
void DescribeEventEpochs(const IncidentInput& input, IncidentReport& report,
                         std::set<std::string>& event_hosts) {
  const EpochValues& values = *input.values;
  const Fleet& fleet = values.fleet();
  std::map<std::vector<std::pair<std::string, std::string>>,
           std::pair<uint64_t, std::set<uint32_t>>>
      configurations;
  std::map<std::string, uint64_t> command_lines;
  std::vector<std::string> bugs;
  for (uint32_t e = 0; e < fleet.epoch_count(); ++e) {
    if (values.Events(e) == 0 || !values.HoldsAll(e, report.suspect.attributes)) continue;
    event_hosts.insert(fleet.host_name(fleet.epoch_host(e)));
    const auto attributes = values.Attributes(e);
    std::vector<std::pair<std::string, std::string>> named;
    for (const auto& [name, value] : attributes) {
      if (name == kCommandLineAttribute) {
        command_lines[value] += values.Events(e);
      } else if (!IsConfigName(name)) {
        named.emplace_back(name, value);
      }
    }
    std::sort(named.begin(), named.end());
    auto& [events, hosts] = configurations[named];
    events += values.Events(e);
    hosts.insert(fleet.epoch_host(e));
    if (input.known_bugs) {
      for (std::string& line : input.known_bugs(attributes)) {
        if (std::find(bugs.begin(), bugs.end(), line) == bugs.end())
          bugs.push_back(std::move(line));
      }
    }
  }
  for (const auto& [named, counts] : configurations) {
    Configuration configuration{.events = counts.first, .hosts = counts.second.size()};
    for (const auto& [name, value] : named) configuration.attributes.push_back({name, value});
    report.configurations.push_back(std::move(configuration));
  }
  std::stable_sort(
      report.configurations.begin(), report.configurations.end(),
      [](const Configuration& a, const Configuration& b) { return a.events > b.events; });
  for (const auto& [value, events] : command_lines) report.command_lines.push_back({value, events});
  report.known_bugs = std::move(bugs);
}

std::vector<std::string> Method(const IncidentReport& r, const AnalysisOptions& options) {
  const std::string confidence = absl::StrFormat("%.0f%%", options.confidence * 100);
  return {
      absl::StrCat("Exposure is bytes verified by fscanary's checkers on each host epoch (a host "
                   "over a period with unchanged attributes); events are corruption findings",
                   options.kind.has_value() ? absl::StrCat(" of kind ", *options.kind) : "", "."),
      absl::StrCat("Under no cause, events are a Poisson process with one rate per byte "
                   "everywhere: conditional on the fleet's ",
                   r.fleet_events, " events, the suspect's count is Binomial(", r.fleet_events,
                   ", its exposure share ", FormatShare(r.suspect.exposure_share),
                   "). p is the upper tail P(X >= ", r.suspect.events, ")."),
      absl::StrCat("The rate ratio compares the suspect's rate with the rest of the fleet's; its ",
                   confidence,
                   " interval is the exact Clopper-Pearson interval of the event share, mapped "
                   "to a ratio by the exposure."),
      "q is the p-value adjusted for every conjunction of up to four attribute values the fleet "
      "allows, tested or not (layered Benjamini-Hochberg).",
      "Kernel releases are counted within the suspect's other conditions. \"Seen\" bounds are "
      "the releases with and next to events; the engine's clean bounds need a rate "
      "significantly lower than the affected range's (an exact binomial test, corrected for "
      "the blocks tested).",
      "docs/CORRELATION.md describes the model in full."};
}

std::string Label(const AttributeValue& a) { return absl::StrCat(a.attribute, "=", a.value); }

}  // namespace

absl::StatusOr<size_t> FindSuspect(const AnalysisResult& analysis, const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("name a suspect: its rank or its attributes");
  if (uint64_t rank = 0; absl::SimpleAtoi(text, &rank)) {
    if (rank == 0 || rank > analysis.suspects.size()) {
      return absl::NotFoundError(
          absl::StrCat("no suspect #", text, ": the analysis has ", analysis.suspects.size()));
    }
    return rank - 1;
  }
  std::vector<AttributeValue> asked;
  for (const std::string& part :
       std::vector<std::string>(absl::StrSplit(text, ',', absl::SkipWhitespace()))) {
    const size_t equals = part.find('=');
    if (equals == std::string::npos || equals == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", part, "\" is not name=value: name a suspect by its rank or its attributes"));
    }
    asked.push_back({std::string(part.substr(0, equals)), std::string(part.substr(equals + 1))});
  }
  asked = Sorted(std::move(asked));
  for (size_t i = 0; i < analysis.suspects.size(); ++i) {
    const Suspect& s = analysis.suspects[i];
    if (Sorted(s.attributes) == asked) return i;
    for (const Alternative& alternative : s.indistinguishable) {
      if (Sorted(alternative.attributes) == asked) return i;
    }
    // An alias member in place of the name of its group.
    for (const auto& group : s.aliases) {
      for (const AttributeValue& member : group) {
        std::vector<AttributeValue> named = s.attributes;
        for (AttributeValue& a : named) {
          if (a == group.front()) a = member;
        }
        if (Sorted(std::move(named)) == asked) return i;
      }
    }
  }
  return absl::NotFoundError(absl::StrCat("no suspect is ", text));
}

absl::StatusOr<IncidentReport> BuildIncidentReport(const IncidentInput& input) {
  const AnalysisResult& analysis = *input.analysis;
  if (input.suspect >= analysis.suspects.size()) {
    return absl::NotFoundError(absl::StrCat("no suspect #", input.suspect + 1,
                                            ": the analysis has ", analysis.suspects.size()));
  }
  IncidentReport report{.suspect = analysis.suspects[input.suspect],
                        .rank = input.suspect + 1,
                        .fleet_hosts = analysis.hosts,
                        .fleet_events = analysis.events,
                        .fleet_exposure_bytes = analysis.exposure_bytes};
  CountReleases(input, report);
  if (input.suspect == 0) {
    report.last_clean = analysis.kernel_versions.last_clean;
    report.first_clean_after = analysis.kernel_versions.first_clean_after;
    report.kernel_statement = analysis.kernel_versions.statement;
  }
  std::set<std::string> event_hosts;
  DescribeEventEpochs(input, report, event_hosts);
  for (const AttributeValue& a : report.suspect.implied) {
    if (IsConfigName(a.attribute)) report.config_options.push_back(a);
  }
  for (const auto& group : report.suspect.aliases) {
    for (const AttributeValue& a : group) {
      if (IsConfigName(a.attribute)) report.config_options.push_back(a);
    }
  }
  for (const EvidenceSummary& evidence : input.evidence) {
    if (report.evidence.size() >= input.max_evidence) break;
    if (event_hosts.contains(evidence.host)) report.evidence.push_back(evidence);
  }
  report.method = Method(report, *input.options);
  return report;
}

std::string FormatIncidentText(const IncidentReport& r) {
  const Suspect& s = r.suspect;
  std::string out = absl::StrCat("Incident report: suspect #", r.rank, "\n\n",
                                 "Conjunction: ", DescribeConjunction(s.attributes), "\n");
  for (const auto& group : s.aliases) {
    std::vector<std::string> names;
    for (const AttributeValue& a : group) names.push_back(Label(a));
    absl::StrAppend(
        &out, "  indistinguishable by the fleet (same hosts): ", absl::StrJoin(names, ", "), "\n");
  }
  for (const Alternative& alternative : s.indistinguishable) {
    absl::StrAppend(&out, "  equally consistent: ", DescribeConjunction(alternative.attributes),
                    "\n");
  }
  if (!s.implied.empty()) {
    std::vector<std::string> names;
    for (const AttributeValue& a : s.implied) names.push_back(Label(a));
    absl::StrAppend(&out, "  every affected host also has: ", absl::StrJoin(names, ", "), "\n");
  }
  absl::StrAppend(
      &out, "\nNumbers:\n  ", s.events, " of ", r.fleet_events, " corruption events on ", s.hosts,
      " hosts (", s.epochs, " host epochs) with ", FormatBytes(s.exposure_bytes), " verified, ",
      FormatShare(s.exposure_share), " of the fleet's ", FormatBytes(r.fleet_exposure_bytes),
      " on ", r.fleet_hosts, " hosts.\n  Rest of the fleet: ", r.fleet_events - s.events,
      " events in ", FormatBytes(r.fleet_exposure_bytes - s.exposure_bytes), ".\n  Rate ratio ",
      FormatRatio(s.rate_ratio), " (95% CI ", FormatRatio(s.ci_low), "–", FormatRatio(s.ci_high),
      "), p = ", FormatProbability(s.p_value), ", q = ", FormatProbability(s.q_value), ".\n");

  absl::StrAppend(&out, "\nKernel releases", r.context.empty() ? "" : " within ",
                  DescribeConjunction(r.context), ":\n");
  for (const ReleaseCount& row : r.releases) {
    absl::StrAppend(&out, "  ", row.kernel, ": ", row.events, " events, ", row.epochs,
                    " host epochs, ", FormatBytes(row.exposure_bytes), "\n");
  }
  const auto seen = [](const std::optional<std::string>& v) { return v.value_or("none seen"); };
  absl::StrAppend(&out, "  first bad seen: ", seen(r.first_bad_seen),
                  "; last bad seen: ", seen(r.last_bad_seen),
                  "; last good seen before: ", seen(r.last_good_seen),
                  "; first good seen after: ", seen(r.first_good_after_seen), "\n");
  if (!r.kernel_statement.empty()) absl::StrAppend(&out, "  ", r.kernel_statement, "\n");

  absl::StrAppend(&out, "\nConfigurations of the hosts with events:\n");
  for (const Configuration& c : r.configurations) {
    std::vector<std::string> names;
    for (const AttributeValue& a : c.attributes) names.push_back(Label(a));
    absl::StrAppend(&out, "  ", c.events, " events on ", c.hosts, c.hosts == 1 ? " host" : " hosts",
                    ": ", absl::StrJoin(names, " "), "\n");
  }
  if (!r.config_options.empty()) {
    std::vector<std::string> names;
    for (const AttributeValue& a : r.config_options) names.push_back(Label(a));
    absl::StrAppend(&out, "  kernel config options involved: ", absl::StrJoin(names, ", "), "\n");
  }
  absl::StrAppend(&out, "\nKernel command lines of the hosts with events:\n");
  if (r.command_lines.empty())
    absl::StrAppend(&out, "  not reported (no kernel_cmdline attribute)\n");
  for (const CommandLine& c : r.command_lines) {
    absl::StrAppend(&out, "  ", c.events, " events: ", c.value, "\n");
  }
  absl::StrAppend(&out, "\nEvidence (as the findings summarise it):\n");
  if (r.evidence.empty()) absl::StrAppend(&out, "  none given for these hosts\n");
  for (const EvidenceSummary& e : r.evidence) {
    absl::StrAppend(&out, "  ", e.host, " ", e.kind, " by ", e.checker, " on ", e.target,
                    " at offset ", e.offset, " (", e.block_size, "-byte block): ", e.summary, "\n");
  }
  absl::StrAppend(&out, "\nKnown bugs matching these hosts:\n");
  if (r.known_bugs.empty()) absl::StrAppend(&out, "  none in the table\n");
  for (const std::string& line : r.known_bugs) absl::StrAppend(&out, "  ", line, "\n");
  absl::StrAppend(&out, "\nHow the numbers were computed:\n");
  for (const std::string& line : r.method) absl::StrAppend(&out, "  ", line, "\n");
  return out;
}

std::string FormatIncidentJson(const IncidentReport& r) {
  const Suspect& s = r.suspect;
  Json aliases = Json::array();
  for (const auto& group : s.aliases) aliases.push_back(Attributes(group));
  Json alternatives = Json::array();
  for (const Alternative& a : s.indistinguishable) alternatives.push_back(Attributes(a.attributes));
  Json releases = Json::array();
  for (const ReleaseCount& row : r.releases) {
    releases.push_back({{"kernel", row.kernel},
                        {"events", row.events},
                        {"epochs", row.epochs},
                        {"exposure_bytes", row.exposure_bytes}});
  }
  Json configurations = Json::array();
  for (const Configuration& c : r.configurations) {
    configurations.push_back(
        {{"attributes", Attributes(c.attributes)}, {"events", c.events}, {"hosts", c.hosts}});
  }
  Json command_lines = Json::array();
  for (const CommandLine& c : r.command_lines) {
    command_lines.push_back({{"kernel_cmdline", c.value}, {"events", c.events}});
  }
  Json evidence = Json::array();
  for (const EvidenceSummary& e : r.evidence) {
    evidence.push_back({{"host", e.host},
                        {"kind", e.kind},
                        {"checker", e.checker},
                        {"target", e.target},
                        {"offset", e.offset},
                        {"block_size", e.block_size},
                        {"detected_unix_nanos", e.detected_unix_nanos},
                        {"summary", e.summary}});
  }
  const Json document = {{"rank", r.rank},
                         {"conjunction", Attributes(s.attributes)},
                         {"aliases", std::move(aliases)},
                         {"indistinguishable", std::move(alternatives)},
                         {"implied", Attributes(s.implied)},
                         {"numbers",
                          {{"events", s.events},
                           {"hosts", s.hosts},
                           {"epochs", s.epochs},
                           {"exposure_bytes", s.exposure_bytes},
                           {"exposure_share", s.exposure_share},
                           {"fleet_events", r.fleet_events},
                           {"fleet_hosts", r.fleet_hosts},
                           {"fleet_exposure_bytes", r.fleet_exposure_bytes},
                           {"rate_ratio", Number(s.rate_ratio)},
                           {"ci_low", Number(s.ci_low)},
                           {"ci_high", Number(s.ci_high)},
                           {"p_value", s.p_value},
                           {"q_value", s.q_value}}},
                         {"kernel",
                          {{"context", Attributes(r.context)},
                           {"releases", std::move(releases)},
                           {"first_bad_seen", Optional(r.first_bad_seen)},
                           {"last_bad_seen", Optional(r.last_bad_seen)},
                           {"last_good_seen", Optional(r.last_good_seen)},
                           {"first_good_after_seen", Optional(r.first_good_after_seen)},
                           {"last_clean", Optional(r.last_clean)},
                           {"first_clean_after", Optional(r.first_clean_after)},
                           {"statement", r.kernel_statement}}},
                         {"configurations", std::move(configurations)},
                         {"config_options", Attributes(r.config_options)},
                         {"command_lines", std::move(command_lines)},
                         {"evidence", std::move(evidence)},
                         {"known_bugs", r.known_bugs},
                         {"explanation", s.explanation},
                         {"method", r.method}};
  // Agent text that is not UTF-8 is replaced, never a reason to fail.
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace fscanary::analysis
