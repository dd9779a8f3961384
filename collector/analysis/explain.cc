#include "collector/analysis/explain.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace fscanary::analysis {
namespace {

constexpr size_t kAliasesNamed = 4;
constexpr size_t kImpliedNamed = 4;

std::string Label(const AttributeValue& a) { return absl::StrCat(a.attribute, "=", a.value); }

// "a, b and c", or "a, b, c and 12 more" past `limit` names.
std::string NameList(const std::vector<std::string>& names, size_t limit) {
  if (names.empty()) return "";
  if (names.size() <= limit) {
    if (names.size() == 1) return names[0];
    return absl::StrCat(absl::StrJoin(names.begin(), names.end() - 1, ", "), " and ", names.back());
  }
  return absl::StrCat(absl::StrJoin(names.begin(), names.begin() + limit, ", "), " and ",
                      names.size() - limit, " more");
}

}  // namespace

std::string DescribeConjunction(const std::vector<AttributeValue>& attributes) {
  return absl::StrJoin(attributes, " ∧ ",
                       [](std::string* out, const AttributeValue& a) { out->append(Label(a)); });
}

std::string FormatRatio(double value) {
  if (std::isinf(value)) return "∞";
  return absl::StrFormat("%.3g", value);
}

std::string FormatProbability(double value) {
  if (value < 1e-300) return "<1e-300";
  return absl::StrFormat("%.2g", value);
}

std::string FormatBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int unit = 0;
  while (bytes >= 1000 && unit < 6) {
    bytes /= 1000;
    ++unit;
  }
  return absl::StrFormat("%.3g %s", bytes, kUnits[unit]);
}

std::string FormatShare(double share) {
  if (share <= 0) return "0%";
  return absl::StrFormat("%.2g%%", 100 * share);
}

std::string ExplainSuspect(const Suspect& suspect, uint64_t total_events, double confidence,
                           double significance) {
  std::string text = absl::StrCat(
      suspect.events, " of ", total_events, " events on hosts with ",
      DescribeConjunction(suspect.attributes), ", which hold ", FormatShare(suspect.exposure_share),
      " of the exposure (", suspect.hosts, suspect.hosts == 1 ? " host" : " hosts", ", ",
      suspect.epochs, suspect.epochs == 1 ? " host epoch" : " host epochs", "); rate ratio ",
      FormatRatio(suspect.rate_ratio), " (", absl::StrFormat("%.0f", confidence * 100), "% CI ",
      FormatRatio(suspect.ci_low), "–", FormatRatio(suspect.ci_high),
      "), p = ", FormatProbability(suspect.p_value), ", q = ", FormatProbability(suspect.q_value),
      ".");
  if (suspect.q_value >= significance) {
    absl::StrAppend(&text,
                    " Not significant once every combination the fleet allows is counted (q ≥ ",
                    FormatProbability(significance), "): a lead to watch, not yet a finding.");
  }
  if (suspect.attributes.size() > 1) {
    absl::StrAppend(&text, " Its rate is significantly higher than that of each of its parts (p ≤ ",
                    FormatProbability(suspect.parts_p_value), ").");
  }
  if (!suspect.implied.empty()) {
    std::vector<std::string> names;
    for (const AttributeValue& a : suspect.implied) names.push_back(Label(a));
    absl::StrAppend(&text, " Every one of these hosts also has ", NameList(names, kImpliedNamed),
                    ".");
  }
  if (!suspect.indistinguishable.empty()) {
    std::vector<std::string> names;
    for (const Alternative& alternative : suspect.indistinguishable) {
      names.push_back(absl::StrCat(DescribeConjunction(alternative.attributes), " (",
                                   FormatShare(alternative.exposure_share), " of the exposure)"));
    }
    absl::StrAppend(&text, " The same events are all on hosts with ",
                    NameList(names, kAliasesNamed),
                    " too, and neither rate stands out against the other: the fleet cannot yet "
                    "tell these apart; more events, or hosts that have one without the other, "
                    "would.");
  }
  for (const std::vector<AttributeValue>& group : suspect.aliases) {
    std::vector<std::string> others;
    for (size_t i = 1; i < group.size(); ++i) others.push_back(Label(group[i]));
    absl::StrAppend(&text, " The fleet cannot tell ", Label(group[0]), " apart from ",
                    NameList(others, kAliasesNamed),
                    ": every host has all of them or none. Hosts that have ",
                    others.size() == 1 ? "one without the other" : "some without the others",
                    " would tell them apart.");
  }
  return text;
}

}  // namespace fscanary::analysis
