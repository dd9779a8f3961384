// Which facts make an epoch: the fingerprint, a pure function.

#include "collector/store/epoch_facts.h"

#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::VmFacts;

TEST(EpochFingerprint, IgnoresNameBootIdMemoryDeviceNumberAndSize) {
  v1::HostFacts changed = VmFacts();
  changed.set_hostname("other");
  changed.set_boot_id("boot-9");
  changed.set_memory_bytes(1);
  changed.mutable_devices(0)->set_dev("8:0");
  changed.mutable_devices(0)->set_size_bytes(1);
  EXPECT_EQ(EpochFingerprint(changed), EpochFingerprint(VmFacts()));
}

TEST(EpochFingerprint, DeviceOrderIsNotAFact) {
  v1::HostFacts one = VmFacts();
  v1::BlockDeviceFacts partition;
  partition.set_name("vda1");
  partition.set_type("partition");
  *one.add_devices() = partition;
  v1::HostFacts other = VmFacts();
  *other.mutable_devices()->Add() = partition;
  other.mutable_devices()->SwapElements(0, 1);
  EXPECT_EQ(EpochFingerprint(one), EpochFingerprint(other));
}

TEST(EpochFingerprint, ChangesWithDriverSchedulerWriteCacheAndMountOptions) {
  const std::string base = EpochFingerprint(VmFacts());
  v1::HostFacts facts = VmFacts();
  facts.mutable_devices(0)->set_driver("virtio_scsi");
  EXPECT_NE(EpochFingerprint(facts), base);
  EXPECT_NE(EpochFingerprint(VmFacts("6.1.0-18-amd64", "bfq")), base);
  facts = VmFacts();
  facts.mutable_devices(0)->set_write_cache("write through");
  EXPECT_NE(EpochFingerprint(facts), base);
  facts = VmFacts();
  facts.mutable_filesystems(0)->set_mount_options("rw,nobarrier");
  EXPECT_NE(EpochFingerprint(facts), base);
}

TEST(EpochFingerprint, KernelConfigCountsThroughItsHashOrElseOptionByOption) {
  v1::HostFacts with_hash = VmFacts();
  (*with_hash.mutable_kernel_config())["CONFIG_BLK_DEV"] = "n";
  EXPECT_EQ(EpochFingerprint(with_hash), EpochFingerprint(VmFacts()));

  v1::HostFacts without_hash = VmFacts();
  without_hash.clear_kernel_config_sha256();
  v1::HostFacts changed = without_hash;
  (*changed.mutable_kernel_config())["CONFIG_BLK_DEV"] = "n";
  EXPECT_NE(EpochFingerprint(changed), EpochFingerprint(without_hash));
}

TEST(SplitKernelConfig, MovesTheOptionsOutOnlyWhenTheyHaveAHash) {
  v1::HostFacts facts = VmFacts();
  const std::optional<SharedKernelConfig> config = SplitKernelConfig(facts);
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->sha256.size(), 64u) << "the collector's own hash of the options";
  EXPECT_NE(config->sha256, VmFacts().kernel_config_sha256());
  EXPECT_TRUE(facts.kernel_config().empty());
  v1::HostFacts options;
  ASSERT_TRUE(options.ParseFromString(config->options));
  EXPECT_EQ(options.kernel_config().size(), 3u);

  v1::HostFacts unhashed = VmFacts();
  unhashed.clear_kernel_config_sha256();
  EXPECT_FALSE(SplitKernelConfig(unhashed).has_value());
  EXPECT_EQ(unhashed.kernel_config().size(), 3u);
}

}  // namespace
}  // namespace fscanary::store
