#include "tests/sim/judge_2018.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "collector/analysis/kernel_version.h"

namespace fscanary::fleet_sim {
namespace {

using analysis::AttributeValue;
using analysis::KernelReleaseLess;
using analysis::KernelVersion;
using analysis::ParseKernelVersion;

bool IsKernelRange(const Condition& condition) {
  return !condition.kernel_from.empty() || !condition.kernel_to.empty();
}

bool InRange(std::string_view release, const Condition& condition) {
  if (!ParseKernelVersion(release).has_value()) return false;
  return (condition.kernel_from.empty() || !KernelReleaseLess(release, condition.kernel_from)) &&
         (condition.kernel_to.empty() || !KernelReleaseLess(condition.kernel_to, release));
}

std::optional<std::string> SeriesOf(const std::string& release) {
  const std::optional<KernelVersion> version = ParseKernelVersion(release);
  if (!version.has_value()) return std::nullopt;
  return version->Series();
}

// Whether `a` is a value the condition plants.
bool Planted(const AttributeValue& a, const Condition& condition) {
  if (!IsKernelRange(condition)) {
    return a.attribute == condition.attribute && a.value == condition.equals;
  }
  const std::optional<std::string> last_series = SeriesOf(condition.kernel_to);
  if (a.attribute == condition.attribute) return InRange(a.value, condition);
  if (a.attribute == "kernel_range") {
    const size_t dots = a.value.find("..");
    if (dots == std::string::npos) return false;
    return InRange(a.value.substr(0, dots), condition) && last_series.has_value() &&
           SeriesOf(a.value.substr(dots + 2)) == last_series;
  }
  return a.attribute == "kernel_series" && last_series.has_value() && a.value == *last_series &&
         SeriesOf(condition.kernel_from) == last_series;
}

bool PlantedByAny(const AttributeValue& a, const PlantedCause& cause) {
  return std::any_of(cause.conditions.begin(), cause.conditions.end(),
                     [&](const Condition& condition) { return Planted(a, condition); });
}

// The item named `a`, with its aliases.
std::vector<AttributeValue> GroupOf(const analysis::Suspect& suspect, const AttributeValue& a) {
  for (const std::vector<AttributeValue>& group : suspect.aliases) {
    if (group.front() == a) return group;
  }
  return {a};
}

}  // namespace

bool InCause2018Range(std::string_view release) {
  return !KernelReleaseLess(release, "4.19-rc1") && !KernelReleaseLess("4.19.7", release);
}

bool NamesCause(const analysis::Suspect& suspect, const PlantedCause& cause) {
  bool items_planted = true;
  std::vector<AttributeValue> named = suspect.implied;
  for (const AttributeValue& a : suspect.attributes) {
    const std::vector<AttributeValue> group = GroupOf(suspect, a);
    items_planted = items_planted && std::any_of(group.begin(), group.end(), [&](const auto& v) {
                      return PlantedByAny(v, cause);
                    });
    named.insert(named.end(), group.begin(), group.end());
  }
  return items_planted && !suspect.attributes.empty() &&
         std::all_of(cause.conditions.begin(), cause.conditions.end(), [&](const Condition& c) {
           return std::any_of(named.begin(), named.end(),
                              [&](const AttributeValue& a) { return Planted(a, c); });
         });
}

bool NamesCause2018(const analysis::Suspect& suspect) {
  static const PlantedCause* const kCause = new PlantedCause(Cause2018());
  return NamesCause(suspect, *kCause);
}

bool TouchesCause(const analysis::Suspect& suspect, const PlantedCause& cause) {
  std::vector<AttributeValue> named = suspect.implied;
  for (const AttributeValue& a : suspect.attributes) {
    const std::vector<AttributeValue> group = GroupOf(suspect, a);
    named.insert(named.end(), group.begin(), group.end());
  }
  return std::any_of(named.begin(), named.end(),
                     [&](const AttributeValue& a) { return PlantedByAny(a, cause); });
}

}  // namespace fscanary::fleet_sim
