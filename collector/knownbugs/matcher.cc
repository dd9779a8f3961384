#include "collector/knownbugs/matcher.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/knownbugs/upstream_version.h"

namespace fscanary::knownbugs {
namespace {

enum class Outcome { kMet, kNotMet, kUnknown };

struct Evaluated {
  Outcome outcome;
  std::string why;
};

const std::string* Find(const HostEpoch& epoch, std::string_view name) {
  for (const auto& [attribute, value] : epoch.attributes) {
    if (attribute == name) return &value;
  }
  return nullptr;
}

bool Contains(const std::vector<std::string_view>& values, std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

Evaluated Evaluate(const Condition& condition, const HostEpoch& epoch) {
  if (condition.attribute.empty()) {
    return {Outcome::kUnknown, absl::StrCat("not observable yet: ", std::string(condition.text))};
  }
  const std::string* value = Find(epoch, condition.attribute);
  if (value == nullptr) {
    return {Outcome::kUnknown,
            absl::StrCat("not reported by this host (", std::string(condition.attribute),
                         "): ", std::string(condition.text))};
  }
  const std::string seen = absl::StrCat(std::string(condition.attribute), "=", *value);
  if (Contains(condition.any_of, *value)) return {Outcome::kMet, seen};
  if (condition.none_of.empty() || Contains(condition.none_of, *value)) {
    return {Outcome::kNotMet, seen};
  }
  return {Outcome::kUnknown,
          absl::StrCat(seen, " is not known either way: ", std::string(condition.text))};
}

std::optional<Match> MatchOne(const KnownBug& bug, const UpstreamVersion& version,
                              const HostEpoch& epoch) {
  const Coverage coverage = AffectedCoverage(bug, version);
  if (coverage == Coverage::kNone) return std::nullopt;
  Match match{.bug = &bug};
  bool all_known = coverage == Coverage::kAll;
  match.why.push_back(absl::StrCat("kernel ", version.described,
                                   coverage == Coverage::kAll ? " is in " : " may be in ",
                                   DescribeAffectedRange(bug, version)));
  for (const Condition& condition : bug.conditions) {
    Evaluated evaluated = Evaluate(condition, epoch);
    if (evaluated.outcome == Outcome::kNotMet) return std::nullopt;
    if (evaluated.outcome == Outcome::kUnknown) all_known = false;
    match.why.push_back(std::move(evaluated.why));
  }
  match.verdict = all_known ? Verdict::kAffected : Verdict::kPossiblyAffected;
  return match;
}

}  // namespace

std::vector<Match> MatchKnownBugs(const HostEpoch& epoch, std::span<const KnownBug> table) {
  std::vector<Match> matches;
  const std::string* release = Find(epoch, "kernel");
  if (release == nullptr) return matches;
  const std::optional<UpstreamVersion> version =
      ResolveUpstreamVersion(*release, epoch.proc_version);
  if (!version) return matches;
  for (const KnownBug& bug : table) {
    if (std::optional<Match> match = MatchOne(bug, *version, epoch)) {
      matches.push_back(*std::move(match));
    }
  }
  return matches;
}

std::string Describe(const Match& match) {
  return absl::StrCat(match.verdict == Verdict::kAffected ? "affected by" : "possibly affected by",
                      " known bug ", std::string(match.bug->id), " (fixed by ",
                      std::string(match.bug->fix_commit.substr(0, 12)),
                      "): ", absl::StrJoin(match.why, "; "));
}

}  // namespace fscanary::knownbugs
