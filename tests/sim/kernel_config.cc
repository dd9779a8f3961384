#include "tests/sim/kernel_config.h"

#include "absl/strings/str_format.h"
#include "tests/sim/kernel_catalog.h"

namespace fscanary::fleet_sim {
namespace {

using analysis::CompareKernelVersions;
using analysis::KernelVersion;
using analysis::ParseKernelVersion;

// One of the two config values other than `value`.
uint8_t OtherValue(Rng& rng, uint8_t value) {
  return static_cast<uint8_t>(1 + (value - 1 + 1 + rng.Below(2)) % 3);
}

}  // namespace

KernelVersion SeriesStart(const std::string& series) {
  KernelVersion version = *ParseKernelVersion(series);
  version.rc = 1;  // an option of series x.y is there from x.y-rc1
  return version;
}

bool AtLeast(const KernelVersion& version, const KernelVersion& threshold) {
  return CompareKernelVersions(version, threshold) >= 0;
}

std::vector<OptionModel> MakeOptions(Rng& rng, uint32_t count) {
  const std::vector<std::string>& series = ConfigSeries();
  const size_t distros = Distros().size();
  std::vector<OptionModel> options;
  if (count == 0) return options;
  options.push_back({.name = "CONFIG_SCSI_MQ_DEFAULT", .scsi_mq_default = true});
  for (uint32_t i = 1; i < count; ++i) {
    OptionModel option{.name = absl::StrFormat("CONFIG_SIM_%04d", i)};
    option.value = static_cast<uint8_t>(1 + rng.Weighted(std::vector<double>{0.5, 0.3, 0.2}));
    if (rng.Chance(0.4)) {
      const size_t at = 1 + rng.Below(series.size() - 1);
      option.introduced = SeriesStart(series[at]);
      if (rng.Chance(0.08) && at + 1 < series.size()) {
        option.removed = SeriesStart(series[at + 1 + rng.Below(series.size() - at - 1)]);
      }
    }
    option.distro_value.assign(distros, 0);
    for (uint8_t& v : option.distro_value) {
      if (rng.Chance(0.15)) v = OtherValue(rng, option.value);
    }
    if (rng.Chance(0.1)) {
      option.changed_at = SeriesStart(series[1 + rng.Below(series.size() - 1)]);
      option.changed_value = OtherValue(rng, option.value);
    }
    options.push_back(std::move(option));
  }
  return options;
}

uint8_t OptionValue(const OptionModel& option, size_t distro, const KernelVersion& version) {
  if (option.scsi_mq_default) {
    // Legacy SCSI went away in 5.0; scsi-mq became the default in 4.19, and
    // RHEL 8 turned it on for its 4.18.
    if (!AtLeast(version, SeriesStart("3.17")) || AtLeast(version, SeriesStart("5.0"))) return 0;
    if (Distros()[distro].name == "rhel8") return 1;
    return AtLeast(version, SeriesStart("4.19")) ? 1 : 3;
  }
  if (option.introduced.has_value() && !AtLeast(version, *option.introduced)) return 0;
  if (option.removed.has_value() && AtLeast(version, *option.removed)) return 0;
  uint8_t value = option.distro_value[distro] != 0 ? option.distro_value[distro] : option.value;
  if (option.changed_at.has_value() && AtLeast(version, *option.changed_at)) {
    value = option.changed_value;
  }
  return value;
}

}  // namespace fscanary::fleet_sim
