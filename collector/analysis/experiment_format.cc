#include "collector/analysis/experiment_format.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/analysis/explain.h"
#include "collector/analysis/json_values.h"

namespace fscanary::analysis {
namespace {

using json::Attributes;
using json::Json;
using json::Number;

Json ChangesValue(std::span<const ChangeReport> changes) {
  Json list = Json::array();
  for (const ChangeReport& r : changes) {
    Json changed = Json::array();
    for (const AttributeChange& c : r.changes) {
      changed.push_back({{"attribute", c.attribute}, {"from", c.from}, {"to", c.to}});
    }
    list.push_back({{"changes", std::move(changed)},
                    {"config_changes", r.config_changes},
                    {"hosts", r.hosts},
                    {"first_change_seconds", Number(r.first_change_seconds)},
                    {"last_change_seconds", Number(r.last_change_seconds)},
                    {"events_before", r.events_before},
                    {"exposure_before", r.exposure_before},
                    {"events_after", r.events_after},
                    {"exposure_after", r.exposure_after},
                    {"control_hosts", r.control_hosts},
                    {"events_control", r.events_control},
                    {"exposure_control", r.exposure_control},
                    {"rate_ratio", Number(r.rate_ratio)},
                    {"ci_low", Number(r.ci_low)},
                    {"ci_high", Number(r.ci_high)},
                    {"p_fixed", r.p_fixed},
                    {"p_not_fixed", r.p_not_fixed},
                    {"q_fixed", r.q_fixed},
                    {"q_not_fixed", r.q_not_fixed},
                    {"verdict", FixVerdictName(r.verdict)},
                    {"statement", r.statement}});
  }
  return list;
}

}  // namespace

std::string FormatPlanText(const Plan& plan) {
  std::string out = absl::StrCat("Suspect: ", DescribeConjunction(plan.suspect), "\n");
  absl::StrAppend(&out, "Carried now by ", plan.hosts_carrying, " hosts");
  if (plan.events_per_host_day > 0) {
    absl::StrAppend(&out, "; observed rate ", absl::StrFormat("%.3g", plan.events_per_host_day),
                    " events per host-day at ", absl::StrFormat("%.3g", plan.bytes_per_host_day),
                    " bytes verified per host-day");
  }
  absl::StrAppend(&out, ".\n");
  for (const std::string& note : plan.notes) absl::StrAppend(&out, "Note: ", note, "\n");
  if (!plan.splits.empty()) {
    absl::StrAppend(&out, "\nChanges that split the aliases, cheapest first:\n");
    for (size_t i = 0; i < plan.splits.size(); ++i) {
      absl::StrAppend(&out, "  ", i + 1, ". ", plan.splits[i].statement, "\n");
    }
  }
  if (!plan.fix.empty()) {
    absl::StrAppend(&out, "\nConfirming a fix (before making it):\n");
    for (const FixForecast& f : plan.fix) absl::StrAppend(&out, "  ", f.statement, "\n");
  }
  return out;
}

std::string FormatPlanJson(const Plan& plan) {
  Json splits = Json::array();
  for (const SplitProposal& p : plan.splits) {
    splits.push_back({{"attribute", p.attribute},
                      {"from", p.from},
                      {"to", p.to},
                      {"hosts_to_change", p.hosts_to_change},
                      {"hosts_carrying", p.hosts_carrying},
                      {"moving", Attributes(p.moving)},
                      {"staying", Attributes(p.staying)},
                      {"days", Number(p.days)},
                      {"days_if_moving_cause", Number(p.days_if_moving_cause)},
                      {"days_if_staying_cause", Number(p.days_if_staying_cause)},
                      {"expected_events", Number(p.expected_events)},
                      {"within", p.within},
                      {"statement", p.statement}});
  }
  Json fix = Json::array();
  for (const FixForecast& f : plan.fix) {
    fix.push_back({{"hosts", f.hosts},
                   {"days", Number(f.days)},
                   {"expected_reference_events", Number(f.expected_reference_events)},
                   {"statement", f.statement}});
  }
  const Json document = {{"suspect", Attributes(plan.suspect)},
                         {"hosts_carrying", plan.hosts_carrying},
                         {"events_per_host_day", plan.events_per_host_day},
                         {"bytes_per_host_day", plan.bytes_per_host_day},
                         {"splits", std::move(splits)},
                         {"fix", std::move(fix)},
                         {"notes", plan.notes}};
  // Agent text that is not UTF-8 is replaced, never a reason to fail.
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string FormatChangesText(std::span<const ChangeReport> changes) {
  std::string out = "\nChanges seen in host epochs (fix confirmation):\n";
  if (changes.empty()) {
    absl::StrAppend(&out, "  none with events before, after or on hosts like them.\n");
  }
  for (const ChangeReport& r : changes) {
    absl::StrAppend(&out, "  [", FixVerdictName(r.verdict), "] ", r.statement, "\n");
  }
  return out;
}

std::string FormatChangesJson(std::span<const ChangeReport> changes) {
  return ChangesValue(changes).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace fscanary::analysis
