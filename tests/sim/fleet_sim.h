#pragma once
// A generator of realistic synthetic fleets for testing and benchmarking the
// correlation engine: VMs on distro and upstream kernels from 3.10 to 6.x,
// upgrades that start new host epochs, blk-mq and I/O schedulers that follow
// the kernel and the driver, filesystems in a skewed mix, and thousands of
// kernel config options that follow the kernel build (with a few custom
// builds). A planted cause — any conjunction of attribute values and kernel
// ranges — produces corruptions at a chosen fleet-wide rate; background
// corruptions can be spread by exposure. Deterministic for a given seed.

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/fleet.h"

namespace fscanary::fleet_sim {

// attribute == value, or, when kernel_from/kernel_to are set, the kernel
// release in that inclusive range (in the analysis' version order).
struct Condition {
  std::string attribute;
  std::string equals;
  std::string kernel_from;
  std::string kernel_to;
};

struct PlantedCause {
  std::vector<Condition> conditions;  // all must hold
  double events_per_week = 1;         // expected, fleet-wide
  std::string kind = "lost_write";
};

// The 2018 blk-mq corruption: kernel 4.19-rc1 to 4.19.7, SCSI on blk-mq, the
// `none` scheduler (request merging is not observable, so it is not a condition).
PlantedCause Cause2018(double events_per_week = 1);

// A cause written as "scheduler=none,driver=virtio_scsi,kernel=4.19-rc1..4.19.7":
// comma-separated conditions, `name=value`, or `name=first..last` for a kernel
// range (either end may be empty). InvalidArgument naming the bad condition.
absl::StatusOr<PlantedCause> ParseCause(std::string_view text, double events_per_week = 1);

struct SimOptions {
  uint64_t seed = 1;
  uint32_t vms = 2500;
  uint32_t config_options = 3000;
  double days = 365;
  double upgrades_per_year = 4;  // kernel upgrades per VM
  double scheduler_changes_per_year = 0.5;
  double custom_kernel_share = 0.02;  // VMs running a locally modified build
  std::optional<PlantedCause> cause;
  double background_events_per_week = 0;  // spread by exposure over the whole fleet
  std::string background_kind = "bit_rot";
  // Cut the timeline at the N-th event: the fleet as it looks right then.
  std::optional<uint32_t> stop_after_events;
};

// Host-level attributes, in this order; config options follow.
inline constexpr std::array<std::string_view, 11> kHostAttributes = {
    "kernel", "distro",        "hypervisor",  "driver", "blk_mq",       "scheduler",
    "fs",     "mount_discard", "write_cache", "region", "instance_type"};
inline constexpr size_t kHostAttributeCount = kHostAttributes.size();

struct SimEpoch {
  uint32_t vm = 0;
  uint32_t build = 0;                                  // index into SimulatedFleet::builds
  std::array<uint16_t, kHostAttributeCount> values{};  // into host_values[attribute]
  double start_day = 0;
  double end_day = 0;
  double exposure_bytes = 0;
  double exposure_seconds = 0;
  uint32_t planted_events = 0;
  uint32_t background_events = 0;
  bool affected = false;  // the planted cause holds
};

// A kernel build: a release as one distro (or a custom variant) configured it.
struct KernelBuild {
  uint32_t release = 0;         // into host_values[0]
  std::vector<uint8_t> config;  // per option: 0 absent, else index into kConfigValues
};
inline constexpr std::array<std::string_view, 4> kConfigValues = {"", "y", "m", "n"};

struct SimulatedFleet {
  std::array<std::vector<std::string>, kHostAttributeCount> host_values;
  std::vector<std::string> option_names;
  std::vector<KernelBuild> builds;
  std::vector<std::string> vm_names;
  std::vector<SimEpoch> epochs;
  std::optional<PlantedCause> cause;
  std::string background_kind;
  uint64_t planted_events = 0;
  uint64_t background_events = 0;
  double end_day = 0;

  // The value an epoch has for an attribute (host attribute or config option).
  std::optional<std::string_view> ValueOf(const SimEpoch& epoch, std::string_view attribute) const;
};

SimulatedFleet Simulate(const SimOptions& options);

// The fleet as the analysis sees it.
absl::StatusOr<analysis::Fleet> ToFleet(const SimulatedFleet& fleet);

// One JSON line per host epoch, in the format `fscanary analyze` reads.
void WriteJsonl(const SimulatedFleet& fleet, std::ostream& out);

}  // namespace fscanary::fleet_sim
