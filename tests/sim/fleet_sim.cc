#include "tests/sim/fleet_sim.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "collector/analysis/kernel_version.h"
#include "tests/sim/kernel_catalog.h"
#include "tests/sim/kernel_config.h"
#include "tests/sim/rng.h"

namespace fscanary::fleet_sim {
namespace {

using analysis::CompareKernelVersions;
using analysis::KernelVersion;
using analysis::ParseKernelVersion;

enum HostAttribute : size_t {
  kKernel,
  kDistro,
  kHypervisor,
  kDriver,
  kBlkMq,
  kScheduler,
  kFs,
  kDiscard,
  kWriteCache,
  kRegion,
  kInstanceType
};

const std::vector<std::string> kHypervisors = {"kvm", "xen", "hyperv", "vmware"};
const std::vector<std::string> kDrivers = {"virtio_blk",   "virtio_scsi", "nvme",
                                           "xen_blkfront", "hv_storvsc",  "vmw_pvscsi"};
const std::vector<std::string> kSchedulers = {"none", "mq-deadline", "kyber", "bfq",
                                              "noop", "deadline",    "cfq"};
const std::vector<std::string> kFilesystems = {"ext4", "xfs", "btrfs", "f2fs"};

// What an operator asked of the I/O scheduler; its name depends on blk-mq.
enum SchedulerPreference { kLowLatency, kDeadline, kFair, kBudgetFair };
constexpr double kPreferenceWeights[] = {0.25, 0.55, 0.08, 0.12};

enum BlkMqOverride { kNoOverride, kForceOn, kForceOff };

// A VM's fixed traits and its current kernel.
struct Vm {
  size_t distro = 0;
  size_t release = 0;    // position in the distro's releases
  uint32_t variant = 0;  // 0: the distro's build; else a custom build
  uint16_t hypervisor = 0;
  uint16_t driver = 0;
  uint16_t fs = 0;
  uint16_t discard = 0;
  uint16_t write_cache = 0;
  uint16_t region = 0;
  uint16_t instance_type = 0;
  SchedulerPreference preference = kDeadline;
  BlkMqOverride override_mq = kNoOverride;
  double bytes_per_day = 0;
};

Vm MakeVm(Rng& rng) {
  Vm vm;
  std::vector<double> distro_weights;
  for (const Distro& d : Distros()) distro_weights.push_back(d.weight);
  vm.distro = rng.Weighted(distro_weights);
  vm.release = rng.Below(Distros()[vm.distro].releases.size());
  vm.hypervisor = static_cast<uint16_t>(rng.Weighted(std::vector<double>{0.7, 0.1, 0.1, 0.1}));
  switch (vm.hypervisor) {
    case 0:  // kvm: virtio_blk, virtio_scsi or nvme
      vm.driver = static_cast<uint16_t>(rng.Weighted(std::vector<double>{0.5, 0.35, 0.15}));
      break;
    case 1:
      vm.driver = rng.Chance(0.8) ? 3 : 2;
      break;
    case 2:
      vm.driver = 4;
      break;
    default:
      vm.driver = rng.Chance(0.8) ? 5 : 2;
  }
  vm.fs = static_cast<uint16_t>(Distros()[vm.distro].rhel_like
                                    ? rng.Weighted(std::vector<double>{0.3, 0.7, 0.0, 0.0})
                                    : rng.Weighted(std::vector<double>{0.55, 0.3, 0.1, 0.05}));
  vm.discard = rng.Chance(0.3) ? 0 : 1;
  vm.write_cache = rng.Chance(0.8) ? 0 : 1;
  vm.region = static_cast<uint16_t>(rng.Below(8));
  // Instance types: a few popular, a long tail.
  std::vector<double> type_weights;
  for (int i = 0; i < 20; ++i) type_weights.push_back(1.0 / (1 + i));
  vm.instance_type = static_cast<uint16_t>(rng.Weighted(type_weights));
  vm.preference = static_cast<SchedulerPreference>(rng.Weighted(kPreferenceWeights));
  const double r = rng.Uniform();
  vm.override_mq = r < 0.05 ? kForceOn : (r < 0.08 ? kForceOff : kNoOverride);
  vm.bytes_per_day = 1e12 * std::exp(0.7 * rng.Normal());
  return vm;
}

class Simulator {
 public:
  explicit Simulator(const SimOptions& options) : options_(options), rng_(options.seed) {}

  SimulatedFleet Run() {
    SetUpTables();
    for (uint32_t i = 0; i < options_.vms; ++i) SimulateVm(i);
    PlaceEvents();
    return std::move(fleet_);
  }

 private:
  void SetUpTables() {
    for (size_t d = 0; d < Distros().size(); ++d) {
      std::vector<uint16_t> ids;
      std::vector<KernelVersion> versions;
      for (const std::string& release : Distros()[d].releases) {
        ids.push_back(static_cast<uint16_t>(fleet_.host_values[kKernel].size()));
        fleet_.host_values[kKernel].push_back(release);
        versions.push_back(*ParseKernelVersion(release));
      }
      release_ids_.push_back(std::move(ids));
      release_versions_.push_back(std::move(versions));
      fleet_.host_values[kDistro].push_back(Distros()[d].name);
    }
    fleet_.host_values[kHypervisor] = kHypervisors;
    fleet_.host_values[kDriver] = kDrivers;
    fleet_.host_values[kBlkMq] = {"on", "off"};
    fleet_.host_values[kScheduler] = kSchedulers;
    fleet_.host_values[kFs] = kFilesystems;
    fleet_.host_values[kDiscard] = {"on", "off"};
    fleet_.host_values[kWriteCache] = {"write back", "write through"};
    for (const char* region : {"eu-west-1", "eu-central-1", "us-east-1", "us-east-2", "us-west-2",
                               "ap-south-1", "ap-northeast-1", "sa-east-1"}) {
      fleet_.host_values[kRegion].push_back(region);
    }
    for (int i = 0; i < 20; ++i) {
      fleet_.host_values[kInstanceType].push_back(absl::StrFormat("type-%02d", i));
    }
    options_models_ = MakeOptions(rng_, options_.config_options);
    for (const OptionModel& option : options_models_) fleet_.option_names.push_back(option.name);
    // Custom builds: each flips a fixed handful of options of whatever it is based on.
    for (int variant = 0; variant < kCustomVariants; ++variant) {
      std::vector<std::pair<uint32_t, uint8_t>> flips;
      for (int i = 0; i < 30 && !options_models_.empty(); ++i) {
        flips.push_back({static_cast<uint32_t>(rng_.Below(options_models_.size())),
                         static_cast<uint8_t>(1 + rng_.Below(3))});
      }
      variant_flips_.push_back(std::move(flips));
    }
  }

  uint32_t Build(const Vm& vm) {
    const auto key = std::make_tuple(vm.distro, vm.release, vm.variant);
    if (const auto it = build_ids_.find(key); it != build_ids_.end()) return it->second;
    KernelBuild build{.release = release_ids_[vm.distro][vm.release]};
    const KernelVersion& version = release_versions_[vm.distro][vm.release];
    build.config.resize(options_models_.size());
    for (size_t o = 0; o < options_models_.size(); ++o) {
      build.config[o] = OptionValue(options_models_[o], vm.distro, version);
    }
    if (vm.variant > 0) {
      for (const auto& [option, value] : variant_flips_[vm.variant - 1]) {
        if (build.config[option] != 0 && option != 0) build.config[option] = value;
      }
    }
    const uint32_t id = static_cast<uint32_t>(fleet_.builds.size());
    fleet_.builds.push_back(std::move(build));
    build_ids_.emplace(key, id);
    return id;
  }

  SimEpoch EpochOf(uint32_t index, const Vm& vm) {
    SimEpoch epoch{.vm = index, .build = Build(vm)};
    const KernelVersion& version = release_versions_[vm.distro][vm.release];
    const bool native_mq = vm.driver == 0 || vm.driver == 2 || vm.driver == 3;
    bool mq = native_mq || AtLeast(version, SeriesStart("5.0"));
    if (!mq) {
      const uint8_t scsi_mq_default =
          options_models_.empty() ? 3 : fleet_.builds[epoch.build].config[0];
      mq = vm.override_mq == kForceOn || (vm.override_mq == kNoOverride && scsi_mq_default == 1);
    }
    static constexpr uint16_t kMqNames[] = {0, 1, 2, 3};      // none, mq-deadline, kyber, bfq
    static constexpr uint16_t kLegacyNames[] = {4, 5, 6, 6};  // noop, deadline, cfq, cfq
    epoch.values[kKernel] = release_ids_[vm.distro][vm.release];
    epoch.values[kDistro] = static_cast<uint16_t>(vm.distro);
    epoch.values[kHypervisor] = vm.hypervisor;
    epoch.values[kDriver] = vm.driver;
    epoch.values[kBlkMq] = mq ? 0 : 1;
    epoch.values[kScheduler] = mq ? kMqNames[vm.preference] : kLegacyNames[vm.preference];
    epoch.values[kFs] = vm.fs;
    epoch.values[kDiscard] = vm.discard;
    epoch.values[kWriteCache] = vm.write_cache;
    epoch.values[kRegion] = vm.region;
    epoch.values[kInstanceType] = vm.instance_type;
    return epoch;
  }

  void SimulateVm(uint32_t index) {
    fleet_.vm_names.push_back(absl::StrFormat("vm-%05d", index));
    Vm vm = MakeVm(rng_);
    if (rng_.Chance(options_.custom_kernel_share)) {
      vm.variant = static_cast<uint32_t>(1 + rng_.Below(kCustomVariants));
    }
    const double upgrade_rate = options_.upgrades_per_year / 365;
    const double switch_rate = options_.scheduler_changes_per_year / 365;
    double start = 0;
    while (start < options_.days) {
      const double upgrade = start + rng_.Exponential(upgrade_rate);
      const double change = start + rng_.Exponential(switch_rate);
      const double end = std::min({upgrade, change, options_.days});
      SimEpoch epoch = EpochOf(index, vm);
      epoch.start_day = start;
      epoch.end_day = end;
      epoch.exposure_bytes = vm.bytes_per_day * (end - start);
      epoch.exposure_seconds = 86400 * (end - start);
      fleet_.epochs.push_back(epoch);
      if (end == upgrade) {
        const size_t last = Distros()[vm.distro].releases.size() - 1;
        vm.release = std::min(last, vm.release + 1 + (rng_.Chance(0.3) ? 1 : 0));
      } else if (end == change) {
        vm.preference = static_cast<SchedulerPreference>(rng_.Weighted(kPreferenceWeights));
      }
      start = end;
    }
  }

  struct Event {
    double day = 0;
    uint32_t epoch = 0;
    bool planted = false;
  };

  void PlaceEvents() {
    fleet_.cause = options_.cause;
    fleet_.background_kind = options_.background_kind;
    double total_exposure = 0;
    double affected_exposure = 0;
    for (SimEpoch& epoch : fleet_.epochs) {
      epoch.affected = options_.cause.has_value() && Matches(epoch, *options_.cause);
      total_exposure += epoch.exposure_bytes;
      if (epoch.affected) affected_exposure += epoch.exposure_bytes;
    }
    const double weeks = options_.days / 7;
    const double planted_rate = options_.cause.has_value() && affected_exposure > 0
                                    ? options_.cause->events_per_week * weeks / affected_exposure
                                    : 0;
    const double background_rate =
        total_exposure > 0 ? options_.background_events_per_week * weeks / total_exposure : 0;
    std::vector<Event> events;
    for (uint32_t i = 0; i < fleet_.epochs.size(); ++i) {
      const SimEpoch& epoch = fleet_.epochs[i];
      const auto place = [&](double rate, bool planted) {
        const uint64_t n = rng_.Poisson(rate * epoch.exposure_bytes);
        for (uint64_t k = 0; k < n; ++k) {
          const double day = epoch.start_day + rng_.Uniform() * (epoch.end_day - epoch.start_day);
          events.push_back({day, i, planted});
        }
      };
      if (epoch.affected) place(planted_rate, true);
      if (background_rate > 0) place(background_rate, false);
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
      return std::tie(a.day, a.epoch) < std::tie(b.day, b.epoch);
    });
    fleet_.end_day = options_.days;
    if (options_.stop_after_events.has_value() && *options_.stop_after_events > 0 &&
        events.size() >= *options_.stop_after_events) {
      fleet_.end_day = events[*options_.stop_after_events - 1].day;
      events.resize(*options_.stop_after_events);
    }
    for (const Event& event : events) {
      SimEpoch& epoch = fleet_.epochs[event.epoch];
      (event.planted ? epoch.planted_events : epoch.background_events) += 1;
      (event.planted ? fleet_.planted_events : fleet_.background_events) += 1;
    }
    if (fleet_.end_day < options_.days) Truncate(fleet_.end_day);
  }

  // The fleet as it was at `day`: later epochs gone, the current ones cut short.
  void Truncate(double day) {
    std::vector<SimEpoch> kept;
    for (SimEpoch epoch : fleet_.epochs) {
      if (epoch.start_day > day) continue;
      if (epoch.end_day > day) {
        const double share = (day - epoch.start_day) / (epoch.end_day - epoch.start_day);
        epoch.exposure_bytes *= share;
        epoch.exposure_seconds *= share;
        epoch.end_day = day;
      }
      kept.push_back(epoch);
    }
    fleet_.epochs = std::move(kept);
  }

  bool Matches(const SimEpoch& epoch, const PlantedCause& cause) const {
    for (const Condition& condition : cause.conditions) {
      const std::optional<std::string_view> value = fleet_.ValueOf(epoch, condition.attribute);
      if (!value.has_value()) return false;
      if (!condition.kernel_from.empty() || !condition.kernel_to.empty()) {
        const std::optional<KernelVersion> version = ParseKernelVersion(*value);
        if (!version.has_value()) return false;
        if (!condition.kernel_from.empty() &&
            CompareKernelVersions(*version, *ParseKernelVersion(condition.kernel_from)) < 0) {
          return false;
        }
        if (!condition.kernel_to.empty() &&
            CompareKernelVersions(*version, *ParseKernelVersion(condition.kernel_to)) > 0) {
          return false;
        }
      } else if (*value != condition.equals) {
        return false;
      }
    }
    return true;
  }

  static constexpr int kCustomVariants = 8;
  const SimOptions& options_;
  Rng rng_;
  SimulatedFleet fleet_;
  std::vector<OptionModel> options_models_;
  std::vector<std::vector<uint16_t>> release_ids_;
  std::vector<std::vector<KernelVersion>> release_versions_;
  std::vector<std::vector<std::pair<uint32_t, uint8_t>>> variant_flips_;
  std::map<std::tuple<size_t, size_t, uint32_t>, uint32_t> build_ids_;
};

}  // namespace

PlantedCause Cause2018(double events_per_week) {
  return {.conditions = {{.attribute = "kernel", .kernel_from = "4.19-rc1", .kernel_to = "4.19.7"},
                         {.attribute = "blk_mq", .equals = "on"},
                         {.attribute = "scheduler", .equals = "none"},
                         {.attribute = "driver", .equals = "virtio_scsi"}},
          .events_per_week = events_per_week};
}

absl::StatusOr<PlantedCause> ParseCause(std::string_view text, double events_per_week) {
  PlantedCause cause{.events_per_week = events_per_week};
  for (const absl::string_view part :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ',', absl::SkipWhitespace())) {
    const size_t equals = part.find('=');
    if (equals == absl::string_view::npos || equals == 0 || equals + 1 == part.size()) {
      return absl::InvalidArgumentError(absl::StrCat("condition \"", part, "\" is not name=value"));
    }
    Condition condition{.attribute = std::string(part.substr(0, equals))};
    const absl::string_view value = part.substr(equals + 1);
    if (const size_t dots = value.find(".."); dots != absl::string_view::npos) {
      condition.kernel_from = std::string(value.substr(0, dots));
      condition.kernel_to = std::string(value.substr(dots + 2));
      for (const std::string* end : {&condition.kernel_from, &condition.kernel_to}) {
        if (!end->empty() && !ParseKernelVersion(*end).has_value()) {
          return absl::InvalidArgumentError(absl::StrCat("\"", *end, "\" is not a kernel release"));
        }
      }
    } else {
      condition.equals = std::string(value);
    }
    cause.conditions.push_back(std::move(condition));
  }
  if (cause.conditions.empty()) return absl::InvalidArgumentError("no conditions");
  return cause;
}

std::optional<std::string_view> SimulatedFleet::ValueOf(const SimEpoch& epoch,
                                                        std::string_view attribute) const {
  for (size_t a = 0; a < kHostAttributeCount; ++a) {
    if (kHostAttributes[a] == attribute) return host_values[a][epoch.values[a]];
  }
  for (size_t o = 0; o < option_names.size(); ++o) {
    if (option_names[o] == attribute) {
      const uint8_t value = builds[epoch.build].config[o];
      if (value == 0) return std::nullopt;
      return kConfigValues[value];
    }
  }
  return std::nullopt;
}

SimulatedFleet Simulate(const SimOptions& options) { return Simulator(options).Run(); }

}  // namespace fscanary::fleet_sim
