#include "collector/fleet/host_attributes.h"

#include <algorithm>
#include <span>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "fscanary/v1/finding.pb.h"

namespace fscanary::fleet {
namespace {

bool Known(std::string_view value) { return !value.empty() && value != "unknown"; }

// The first target named in the device or filesystem facts: the agent lists
// them in config order.
std::string FirstTarget(const v1::HostFacts& facts) {
  for (const v1::BlockDeviceFacts& device : facts.devices()) {
    if (!device.target().empty()) return device.target();
  }
  for (const v1::FilesystemFacts& filesystem : facts.filesystems()) {
    if (!filesystem.target().empty()) return filesystem.target();
  }
  return "";
}

// The bottom disk of the target's stack: a device nothing else in the stack
// sits under and of type disk; else the last device of the target (the agent
// lists the stack top down).
const v1::BlockDeviceFacts* BottomDevice(const v1::HostFacts& facts, const std::string& target) {
  const v1::BlockDeviceFacts* last = nullptr;
  for (const v1::BlockDeviceFacts& device : facts.devices()) {
    if (device.target() != target) continue;
    if (device.type() == "disk" && device.lower_size() == 0) return &device;
    last = &device;
  }
  return last;
}

const v1::FilesystemFacts* TargetFilesystem(const v1::HostFacts& facts, const std::string& target) {
  for (const v1::FilesystemFacts& filesystem : facts.filesystems()) {
    if (filesystem.target() == target) return &filesystem;
  }
  return nullptr;
}

void SetIfKnown(std::string& label, const std::string& value) {
  if (Known(value)) label = value;
}

}  // namespace

bool IsKernelConfigOptionName(std::string_view name) {
  constexpr std::string_view kPrefix = "CONFIG_";
  if (name.size() <= kPrefix.size() || !name.starts_with(kPrefix)) return false;
  for (const char c : name.substr(kPrefix.size())) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string KindName(v1::FindingKind kind) {
  return absl::AsciiStrToLower(v1::FindingKind_Name(kind));
}

PrimaryLabels PrimaryLabelsOf(const v1::HostFacts& facts) {
  PrimaryLabels labels;
  SetIfKnown(labels.kernel, facts.kernel_release());
  SetIfKnown(labels.distro, facts.distro_version().empty()
                                ? facts.distro_id()
                                : absl::StrCat(facts.distro_id(), " ", facts.distro_version()));
  SetIfKnown(labels.virtualization, facts.virtualization());
  const std::string target = FirstTarget(facts);
  if (target.empty()) return labels;
  if (const v1::BlockDeviceFacts* device = BottomDevice(facts, target)) {
    SetIfKnown(labels.blk_mq, device->blk_mq());
    SetIfKnown(labels.scheduler, device->scheduler());
    SetIfKnown(labels.driver, device->driver());
  }
  if (const v1::FilesystemFacts* filesystem = TargetFilesystem(facts, target)) {
    SetIfKnown(labels.fs, filesystem->fs_type());
  } else if (!facts.devices().empty()) {
    labels.fs = "raw";
  }
  return labels;
}

std::vector<std::pair<std::string, std::string>> EpochAttributes(const store::EpochRecord& epoch) {
  const v1::HostFacts& facts = epoch.facts;
  const PrimaryLabels primary = PrimaryLabelsOf(facts);
  std::vector<std::pair<std::string, std::string>> attributes;
  auto add = [&attributes](std::string name, const std::string& value) {
    if (Known(value)) attributes.emplace_back(std::move(name), value);
  };
  add("kernel", primary.kernel);
  add("blk_mq", primary.blk_mq);
  add("scheduler", primary.scheduler);
  add("driver", primary.driver);
  add("fs", primary.fs);
  add("distro", primary.distro);
  add("hypervisor", primary.virtualization);
  const std::string target = FirstTarget(facts);
  if (const v1::BlockDeviceFacts* device = BottomDevice(facts, target)) {
    add("write_cache", device->write_cache());
    add("merges", device->merges());
    add("rotational", device->rotational() ? "yes" : "no");
    if (device->nr_hw_queues() > 0) add("nr_hw_queues", absl::StrCat(device->nr_hw_queues()));
  }
  if (const v1::FilesystemFacts* filesystem = TargetFilesystem(facts, target)) {
    add("mount_options", filesystem->mount_options());
  }
  // The options as the epoch holds them: split off and shared by SHA-256, or
  // inline when the agent sent no hash. Maps are unordered: sort for a stable
  // attribute order.
  std::vector<std::pair<std::string, std::string>> options;
  if (epoch.kernel_config != nullptr && !epoch.kernel_config->empty()) {
    options.assign(epoch.kernel_config->begin(), epoch.kernel_config->end());
  } else {
    options.assign(facts.kernel_config().begin(), facts.kernel_config().end());
  }
  std::sort(options.begin(), options.end());
  for (auto& [name, value] : options) {
    if (IsKernelConfigOptionName(name)) add(std::move(name), value);
  }
  std::vector<std::pair<std::string, std::string>> extra(facts.extra().begin(),
                                                         facts.extra().end());
  std::sort(extra.begin(), extra.end());
  for (const auto& [name, value] : extra) add(absl::StrCat("extra.", name), value);
  return attributes;
}

absl::StatusOr<BuiltFleet> BuildFleet(const std::vector<store::EpochRecord>& epochs) {
  analysis::FleetBuilder builder;
  std::vector<std::string> skipped;
  std::vector<analysis::ValueId> values;
  std::vector<analysis::FleetBuilder::KindCount> corruptions;
  for (const store::EpochRecord& epoch : epochs) {
    values.clear();
    for (const auto& [name, value] : EpochAttributes(epoch)) {
      values.push_back(builder.Value(builder.Attribute(name), value));
    }
    corruptions.clear();
    for (const auto& [kind, count] : epoch.findings_by_kind) {
      if (count == 0 || !store::IsCorruption(kind)) continue;
      corruptions.push_back({.kind = builder.Kind(KindName(kind)), .count = count});
    }
    // An aggregate of retention stands for several epochs with the same
    // facts: added that many times, its exposure split exactly (the
    // remainder on the first), so that epoch counts, and with them the
    // analysis's support thresholds, are what they were before retention.
    const uint64_t copies = std::max<uint64_t>(epoch.stands_for, 1);
    const uint64_t bytes = epoch.exposure.bytes_verified;
    const auto nanos = static_cast<uint64_t>(std::max<int64_t>(epoch.exposure.observed_nanos, 0));
    for (uint64_t copy = 0; copy < copies; ++copy) {
      const bool first = copy == 0;
      const uint64_t copy_bytes = bytes / copies + (first ? bytes % copies : 0);
      const uint64_t copy_nanos = nanos / copies + (first ? nanos % copies : 0);
      const analysis::FleetBuilder::Epoch entry{
          .host = epoch.agent_id,
          .exposure_bytes = static_cast<double>(copy_bytes),
          .exposure_seconds = static_cast<double>(copy_nanos) / 1e9,
          .start_seconds = static_cast<double>(epoch.start_unix_nanos) / 1e9,
          .values = values,
          .corruptions = first ? std::span<const analysis::FleetBuilder::KindCount>(corruptions)
                               : std::span<const analysis::FleetBuilder::KindCount>(),
      };
      // AddEpoch changes nothing when it refuses an epoch.
      if (absl::Status added = builder.AddEpoch(entry); !added.ok()) {
        skipped.push_back(
            absl::StrCat("host ", epoch.agent_id, " epoch ", epoch.epoch, ": ", added.message()));
        break;
      }
    }
  }
  absl::StatusOr<analysis::Fleet> fleet = std::move(builder).Build();
  if (!fleet.ok()) return fleet.status();
  return BuiltFleet{.fleet = *std::move(fleet), .skipped = std::move(skipped)};
}

}  // namespace fscanary::fleet
