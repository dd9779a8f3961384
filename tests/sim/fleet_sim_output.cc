// The two ways a simulated fleet leaves the simulator: as the analysis' Fleet,
// and as the JSON lines `fscanary analyze --input` reads.
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::fleet_sim {
namespace {

using analysis::FleetBuilder;
using analysis::ValueId;

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

absl::StatusOr<analysis::Fleet> ToFleet(const SimulatedFleet& fleet) {
  FleetBuilder builder;
  std::array<std::vector<ValueId>, kHostAttributeCount> host_ids;
  for (size_t a = 0; a < kHostAttributeCount; ++a) {
    const analysis::AttributeId attribute = builder.Attribute(kHostAttributes[a]);
    for (const std::string& value : fleet.host_values[a]) {
      host_ids[a].push_back(builder.Value(attribute, value));
    }
  }
  std::vector<std::array<ValueId, kConfigValues.size()>> option_ids;
  for (const std::string& name : fleet.option_names) {
    const analysis::AttributeId attribute = builder.Attribute(name);
    std::array<ValueId, kConfigValues.size()> ids{};
    for (size_t v = 1; v < kConfigValues.size(); ++v) {
      ids[v] = builder.Value(attribute, kConfigValues[v]);
    }
    option_ids.push_back(ids);
  }
  std::vector<std::vector<ValueId>> build_ids;
  for (const KernelBuild& build : fleet.builds) {
    std::vector<ValueId> ids;
    for (size_t o = 0; o < build.config.size(); ++o) {
      if (build.config[o] != 0) ids.push_back(option_ids[o][build.config[o]]);
    }
    build_ids.push_back(std::move(ids));
  }
  const analysis::KindId planted =
      builder.Kind(fleet.cause.has_value() ? fleet.cause->kind : "planted");
  const analysis::KindId background = builder.Kind(fleet.background_kind);
  std::vector<ValueId> values;
  for (const SimEpoch& epoch : fleet.epochs) {
    values.assign(build_ids[epoch.build].begin(), build_ids[epoch.build].end());
    for (size_t a = 0; a < kHostAttributeCount; ++a) {
      values.push_back(host_ids[a][epoch.values[a]]);
    }
    const FleetBuilder::KindCount corruptions[] = {{planted, epoch.planted_events},
                                                   {background, epoch.background_events}};
    if (absl::Status status = builder.AddEpoch({.host = fleet.vm_names[epoch.vm],
                                                .exposure_bytes = epoch.exposure_bytes,
                                                .exposure_seconds = epoch.exposure_seconds,
                                                .values = values,
                                                .corruptions = corruptions});
        !status.ok()) {
      return status;
    }
  }
  return std::move(builder).Build();
}

void WriteJsonl(const SimulatedFleet& fleet, std::ostream& out) {
  std::string line;
  for (const SimEpoch& epoch : fleet.epochs) {
    line.clear();
    line += "{\"host\": ";
    AppendJsonString(line, fleet.vm_names[epoch.vm]);
    line += ", \"attributes\": {";
    bool first = true;
    const auto attribute = [&](std::string_view name, std::string_view value) {
      if (!first) line += ", ";
      first = false;
      AppendJsonString(line, name);
      line += ": ";
      AppendJsonString(line, value);
    };
    for (size_t a = 0; a < kHostAttributeCount; ++a) {
      attribute(kHostAttributes[a], fleet.host_values[a][epoch.values[a]]);
    }
    const KernelBuild& build = fleet.builds[epoch.build];
    for (size_t o = 0; o < build.config.size(); ++o) {
      if (build.config[o] != 0) attribute(fleet.option_names[o], kConfigValues[build.config[o]]);
    }
    absl::StrAppend(&line,
                    "}, \"exposure_bytes\": ", absl::StrFormat("%.17g", epoch.exposure_bytes),
                    ", \"exposure_seconds\": ", absl::StrFormat("%.17g", epoch.exposure_seconds),
                    ", \"corruptions\": {");
    first = true;
    const auto kind = [&](std::string_view name, uint32_t count) {
      if (count == 0) return;
      if (!first) line += ", ";
      first = false;
      AppendJsonString(line, name);
      absl::StrAppend(&line, ": ", count);
    };
    kind(fleet.cause.has_value() ? fleet.cause->kind : "planted", epoch.planted_events);
    kind(fleet.background_kind, epoch.background_events);
    line += "}}\n";
    out << line;
  }
}

}  // namespace fscanary::fleet_sim
