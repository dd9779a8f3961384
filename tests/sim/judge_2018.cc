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

bool Planted(const AttributeValue& a) {
  if (a.attribute == "kernel") return InCause2018Range(a.value);
  if (a.attribute == "kernel_range") {
    const size_t dots = a.value.find("..");
    if (dots == std::string::npos) return false;
    const std::optional<KernelVersion> last = ParseKernelVersion(a.value.substr(dots + 2));
    return InCause2018Range(a.value.substr(0, dots)) && last.has_value() &&
           last->Series() == "4.19";
  }
  return (a.attribute == "kernel_series" && a.value == "4.19") ||
         (a.attribute == "blk_mq" && a.value == "on") ||
         (a.attribute == "scheduler" && a.value == "none") ||
         (a.attribute == "driver" && a.value == "virtio_scsi");
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

bool NamesCause2018(const analysis::Suspect& suspect) {
  bool items_planted = true;
  std::vector<AttributeValue> named = suspect.implied;
  for (const AttributeValue& a : suspect.attributes) {
    const std::vector<AttributeValue> group = GroupOf(suspect, a);
    items_planted = items_planted && std::any_of(group.begin(), group.end(), Planted);
    named.insert(named.end(), group.begin(), group.end());
  }
  const auto has = [&](std::string_view attribute) {
    return std::any_of(named.begin(), named.end(), [&](const AttributeValue& a) {
      return Planted(a) && (a.attribute == attribute ||
                            (attribute == "kernel" &&
                             (a.attribute == "kernel_series" || a.attribute == "kernel_range")));
    });
  };
  return items_planted && has("kernel") && has("blk_mq") && has("scheduler") && has("driver");
}

}  // namespace fscanary::fleet_sim
