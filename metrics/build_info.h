#pragma once
// fscanary_build_info: the conventional constant series that says which build
// is running, so dashboards and alerts can join on version and revision.

#include <string_view>

#include "absl/status/status.h"
#include "metrics/registry.h"

namespace fscanary::metrics {

inline constexpr std::string_view kBuildInfoName = "fscanary_build_info";

// Registers the gauge fscanary_build_info{version="...",revision="..."} = 1
// in `registry`. An empty version or revision becomes "unknown" (an empty
// label value would make the label vanish). Fails as Registry::AddGauge does,
// for instance AlreadyExists when called twice on one registry.
absl::Status RegisterBuildInfo(Registry& registry, std::string_view version,
                               std::string_view revision);

}  // namespace fscanary::metrics
