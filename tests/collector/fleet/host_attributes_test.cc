// What a host's facts mean as metric labels and correlation attributes.
#include "collector/fleet/host_attributes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collector/analysis/epoch_values.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::fleet {
namespace {

using store::testing::VmFacts;

v1::BlockDeviceFacts& AddDevice(v1::HostFacts& facts, const std::string& name,
                                const std::string& type, const std::string& target) {
  v1::BlockDeviceFacts& device = *facts.add_devices();
  device.set_name(name);
  device.set_type(type);
  device.set_target(target);
  return device;
}

TEST(PrimaryLabels, NoFactsAreUnknownNeverEmpty) {
  const PrimaryLabels labels = PrimaryLabelsOf(v1::HostFacts());
  EXPECT_EQ(labels.kernel, "unknown");
  EXPECT_EQ(labels.scheduler, "unknown");
  EXPECT_EQ(labels.fs, "unknown");
}

TEST(PrimaryLabels, DescribeTheFirstTargetsDiskAndFilesystem) {
  const PrimaryLabels labels = PrimaryLabelsOf(VmFacts("4.19.2", "none"));
  EXPECT_EQ(labels.kernel, "4.19.2");
  EXPECT_EQ(labels.scheduler, "none");
  EXPECT_EQ(labels.blk_mq, "on");
  EXPECT_EQ(labels.driver, "virtio_blk");
  EXPECT_EQ(labels.fs, "ext4");
  EXPECT_EQ(labels.distro, "debian 12");
  EXPECT_EQ(labels.virtualization, "kvm");
}

TEST(PrimaryLabels, ComeFromTheBottomDiskOfAStackNotTheDeviceMapperOnTop) {
  v1::HostFacts facts;
  v1::BlockDeviceFacts& dm = AddDevice(facts, "dm-0", "dm", "t0");
  dm.set_driver("device-mapper");
  dm.set_scheduler("none");
  dm.add_lower("sda");
  v1::BlockDeviceFacts& disk = AddDevice(facts, "sda", "disk", "t0");
  disk.set_driver("virtio_scsi");
  disk.set_scheduler("mq-deadline");
  disk.set_blk_mq("on");
  const PrimaryLabels labels = PrimaryLabelsOf(facts);
  EXPECT_EQ(labels.driver, "virtio_scsi");
  EXPECT_EQ(labels.scheduler, "mq-deadline");
}

TEST(PrimaryLabels, ARawDeviceTargetHasFilesystemRaw) {
  v1::HostFacts facts;
  AddDevice(facts, "vdb", "disk", "scratch").set_driver("virtio_blk");
  EXPECT_EQ(PrimaryLabelsOf(facts).fs, "raw");
}

TEST(PrimaryLabels, OnlyTheFirstTargetCounts) {
  v1::HostFacts facts;
  AddDevice(facts, "vdb", "disk", "first").set_driver("virtio_blk");
  AddDevice(facts, "nvme0n1", "disk", "second").set_driver("nvme");
  EXPECT_EQ(PrimaryLabelsOf(facts).driver, "virtio_blk");
}

TEST(EpochAttributes, HoldTheNamedAttributesAndEveryKernelConfigOption) {
  store::EpochRecord epoch;
  epoch.facts = VmFacts("4.19.2", "none");
  auto config = std::make_shared<store::KernelConfig>();
  (*config)["CONFIG_SCSI_MQ_DEFAULT"] = "y";
  epoch.kernel_config = config;
  const auto attributes = EpochAttributes(epoch);
  auto has = [&](const std::string& name, const std::string& value) {
    return std::find(attributes.begin(), attributes.end(), std::pair(name, value)) !=
           attributes.end();
  };
  EXPECT_TRUE(has("kernel", "4.19.2"));
  EXPECT_TRUE(has("scheduler", "none"));
  EXPECT_TRUE(has("fs", "ext4"));
  EXPECT_TRUE(has("mount_options", "rw,relatime"));
  EXPECT_FALSE(has("merges", "")) << "an agent that did not report merging has no such attribute";
  EXPECT_TRUE(has("CONFIG_SCSI_MQ_DEFAULT", "y")) << "the shared config is used when present";
  EXPECT_FALSE(has("CONFIG_BLK_DEV", "y")) << "the inline options are not mixed in then";
}

TEST(EpochAttributes, RequestMergingOfTheBottomDiskIsAnAttribute) {
  store::EpochRecord epoch;
  epoch.facts = VmFacts("4.19.2", "none");
  epoch.facts.mutable_devices(0)->set_merges("all");
  const auto attributes = EpochAttributes(epoch);
  EXPECT_NE(std::find(attributes.begin(), attributes.end(),
                      std::pair<std::string, std::string>("merges", "all")),
            attributes.end());
}

TEST(EpochAttributes, LeaveOutWhatTheHostDidNotReport) {
  store::EpochRecord epoch;
  epoch.kernel_config = std::make_shared<store::KernelConfig>();
  for (const auto& [name, value] : EpochAttributes(epoch)) {
    EXPECT_NE(value, "unknown") << name;
    EXPECT_FALSE(value.empty()) << name;
  }
}

TEST(BuildFleet, CountsOnlyCorruptionsAsEvents) {
  store::EpochRecord epoch;
  epoch.agent_id = "vm-1";
  epoch.facts = VmFacts();
  epoch.kernel_config = std::make_shared<store::KernelConfig>();
  epoch.exposure.bytes_verified = 1 << 20;
  epoch.findings_by_kind[v1::TORN_WRITE] = 2;
  epoch.findings_by_kind[v1::IO_ERROR] = 5;
  const absl::StatusOr<BuiltFleet> built = BuildFleet({epoch});
  ASSERT_TRUE(built.ok()) << built.status();
  const analysis::Fleet* fleet = &built->fleet;
  ASSERT_EQ(fleet->corruptions().size(), 1u);
  EXPECT_EQ(fleet->corruptions()[0].count, 2u);
  EXPECT_EQ(fleet->kind_name(fleet->corruptions()[0].kind), "torn_write");
  EXPECT_EQ(fleet->exposure_bytes()[0], double(1 << 20));
}

// Fix confirmation orders each host's epochs by their start: without it the
// collector's analysis sees no change of attributes at all.
TEST(BuildFleet, EachEpochStartsWhenTheStoreSaysOnTheSecondsClock) {
  std::vector<store::EpochRecord> epochs(2);
  for (size_t i = 0; i < epochs.size(); ++i) {
    epochs[i].agent_id = "vm-1";
    epochs[i].epoch = i + 1;
    epochs[i].facts = VmFacts("6.1.0-18", i == 0 ? "none" : "mq-deadline");
    epochs[i].kernel_config = std::make_shared<store::KernelConfig>();
  }
  epochs[0].start_unix_nanos = 1'700'000'000'250'000'000;
  epochs[1].start_unix_nanos = 1'700'086'400'500'000'000;
  const absl::StatusOr<BuiltFleet> built = BuildFleet(epochs);
  ASSERT_TRUE(built.ok()) << built.status();
  const analysis::EpochValues values(built->fleet, analysis::AnalysisOptions{});
  std::map<std::string, double> start_of;
  for (uint32_t epoch = 0; epoch < built->fleet.epoch_count(); ++epoch) {
    start_of[values.Text(epoch, "scheduler").value_or("")] = built->fleet.start_seconds()[epoch];
  }
  ASSERT_EQ(start_of.size(), 2u);
  EXPECT_DOUBLE_EQ(start_of["none"], 1'700'000'000.25);
  EXPECT_DOUBLE_EQ(start_of["mq-deadline"], 1'700'086'400.5);
}

TEST(IsKernelConfigOptionName, AcceptsWhatDebiansConfigsHoldAndNothingElse) {
  EXPECT_TRUE(IsKernelConfigOptionName("CONFIG_BLK_DEV"));
  EXPECT_TRUE(IsKernelConfigOptionName("CONFIG_MTD_NETtel")) << "in Debian 12's config";
  EXPECT_FALSE(IsKernelConfigOptionName("CONFIG_"));
  EXPECT_FALSE(IsKernelConfigOptionName("kernel"));
  EXPECT_FALSE(IsKernelConfigOptionName("CONFIG_X=y"));
  EXPECT_FALSE(IsKernelConfigOptionName("CONFIG_A.B"));
}

// A config stored before the collector checked option names: keys named like
// built-in attributes used to give an epoch two values for `kernel`, and the
// whole fleet's analysis failed.
std::shared_ptr<store::KernelConfig> ConfigNamingBuiltIns() {
  auto config = std::make_shared<store::KernelConfig>();
  (*config)["kernel"] = "forged";
  (*config)["scheduler"] = "forged";
  (*config)["fs"] = "forged";
  (*config)["CONFIG_BLK_DEV"] = "y";
  return config;
}

TEST(EpochAttributes, KernelConfigKeysOutsideTheirNamespaceAreLeftOut) {
  store::EpochRecord epoch;
  epoch.facts = VmFacts("4.19.2", "none");
  epoch.kernel_config = ConfigNamingBuiltIns();
  std::map<std::string, std::vector<std::string>> values;
  for (const auto& [name, value] : EpochAttributes(epoch)) values[name].push_back(value);
  EXPECT_EQ(values["kernel"], std::vector<std::string>{"4.19.2"});
  EXPECT_EQ(values["scheduler"], std::vector<std::string>{"none"});
  EXPECT_EQ(values["fs"], std::vector<std::string>{"ext4"});
  EXPECT_EQ(values["CONFIG_BLK_DEV"], std::vector<std::string>{"y"});
}

TEST(BuildFleet, AHostWhoseConfigNamesBuiltInAttributesDoesNotStopTheFleet) {
  std::vector<store::EpochRecord> epochs(2);
  for (size_t i = 0; i < epochs.size(); ++i) {
    epochs[i].agent_id = "vm-" + std::to_string(i);
    epochs[i].epoch = 1;
    epochs[i].facts = VmFacts();
    epochs[i].kernel_config = std::make_shared<store::KernelConfig>();
    epochs[i].exposure.bytes_verified = 1 << 20;
  }
  epochs[1].kernel_config = ConfigNamingBuiltIns();
  const absl::StatusOr<BuiltFleet> built = BuildFleet(epochs);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->skipped.empty());
  EXPECT_EQ(built->fleet.exposure_bytes().size(), 2u);
}

}  // namespace
}  // namespace fscanary::fleet
