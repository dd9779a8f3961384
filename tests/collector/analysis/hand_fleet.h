#pragma once
// Small fleets written out by hand for the engine's tests.

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "collector/analysis/analysis.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

// For readable test failures.
inline void PrintTo(const AttributeValue& a, std::ostream* out) {
  *out << a.attribute << "=" << a.value;
}

struct HandEpoch {
  std::string host;
  std::vector<std::pair<std::string, std::string>> attributes;
  double exposure_bytes = 1e12;
  uint64_t events = 0;
  std::string kind = "lost_write";
};

inline Fleet BuildHandFleet(const std::vector<HandEpoch>& epochs) {
  FleetBuilder builder;
  for (const HandEpoch& epoch : epochs) {
    std::vector<ValueId> values;
    for (const auto& [name, value] : epoch.attributes) {
      values.push_back(builder.Value(builder.Attribute(name), value));
    }
    const FleetBuilder::KindCount corruptions[] = {{builder.Kind(epoch.kind), epoch.events}};
    const absl::Status status = builder.AddEpoch({.host = epoch.host,
                                                  .exposure_bytes = epoch.exposure_bytes,
                                                  .exposure_seconds = 86400,
                                                  .values = values,
                                                  .corruptions = corruptions});
    if (!status.ok()) std::abort();
  }
  return std::move(builder).Build();
}

}  // namespace fscanary::analysis
