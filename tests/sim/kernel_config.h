#pragma once
// How the simulated kernels are configured: each config option appears,
// changes default or goes away at some kernel series, and distros override
// some defaults, so that options follow the kernel build as they do in a real
// fleet. CONFIG_SCSI_MQ_DEFAULT follows its real history.

#include <optional>
#include <string>
#include <vector>

#include "collector/analysis/kernel_version.h"
#include "tests/sim/rng.h"

namespace fscanary::fleet_sim {

// x.y-rc1: where an option of series x.y starts.
analysis::KernelVersion SeriesStart(const std::string& series);
bool AtLeast(const analysis::KernelVersion& version, const analysis::KernelVersion& threshold);

struct OptionModel {
  std::string name;
  std::optional<analysis::KernelVersion> introduced;
  std::optional<analysis::KernelVersion> removed;
  uint8_t value = 1;                  // index into kConfigValues: y, m or n
  std::vector<uint8_t> distro_value;  // 0: as `value`
  std::optional<analysis::KernelVersion> changed_at;
  uint8_t changed_value = 1;
  bool scsi_mq_default = false;
};

// `count` options: CONFIG_SCSI_MQ_DEFAULT, then CONFIG_SIM_0001 onwards.
std::vector<OptionModel> MakeOptions(Rng& rng, uint32_t count);

// The option's value in a build of `version` by distro `distro` (index into
// Distros()): 0 when the option does not exist there, else 1 y, 2 m, 3 n.
uint8_t OptionValue(const OptionModel& option, size_t distro,
                    const analysis::KernelVersion& version);

}  // namespace fscanary::fleet_sim
