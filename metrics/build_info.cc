#include "metrics/build_info.h"

#include <string>

#include "common/status.h"

namespace fscanary::metrics {

absl::Status RegisterBuildInfo(Registry& registry, std::string_view version,
                               std::string_view revision) {
  ASSIGN_OR_RETURN(
      Family<Gauge> * family,
      registry.AddGauge(kBuildInfoName,
                        "A metric with a constant '1' value labeled by the version and the source "
                        "revision from which fscanary was built."));
  const auto or_unknown = [](std::string_view text) {
    return text.empty() ? std::string("unknown") : std::string(text);
  };
  ASSIGN_OR_RETURN(Gauge * gauge, family->Add({{"version", or_unknown(version)},
                                               {"revision", or_unknown(revision)}}));
  gauge->Set(1);
  return absl::OkStatus();
}

}  // namespace fscanary::metrics
