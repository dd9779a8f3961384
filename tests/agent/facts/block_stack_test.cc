// The block stack under a device, read from hand-built sysfs trees: drivers,
// blk-mq, schedulers and queue facts, and the way down through partitions,
// dm slaves and loop backing files.

#include "agent/facts/block_stack.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/facts/fake_host_tree.h"

namespace fscanary::facts {
namespace {

using ::testing::ElementsAre;
using testing::FakeHostTree;
using ::testing::IsEmpty;

constexpr sysfs::DeviceNumber kVda{.major = 254, .minor = 0};
constexpr sysfs::DeviceNumber kVda1{.major = 254, .minor = 1};
constexpr sysfs::DeviceNumber kVdb{.major = 254, .minor = 16};
constexpr sysfs::DeviceNumber kVdc{.major = 254, .minor = 32};
constexpr sysfs::DeviceNumber kSda{.major = 8, .minor = 0};
constexpr sysfs::DeviceNumber kDm0{.major = 253, .minor = 0};
constexpr sysfs::DeviceNumber kNvme{.major = 259, .minor = 0};
constexpr sysfs::DeviceNumber kZram{.major = 252, .minor = 0};

constexpr char kVirtio1[] = "/sys/devices/pci0000:00/0000:00:02.0/virtio1";
constexpr char kVirtio2[] = "/sys/devices/pci0000:00/0000:00:03.0/virtio2";
constexpr char kVirtio3[] = "/sys/devices/pci0000:00/0000:00:04.0/virtio3";

std::vector<v1::BlockDeviceFacts> Stack(const FakeHostTree& tree, sysfs::DeviceNumber top) {
  return BlockStackFacts(tree.roots().system, /*mounts=*/{}, top);
}

std::vector<std::string> Names(const std::vector<v1::BlockDeviceFacts>& stack) {
  std::vector<std::string> names;
  for (const v1::BlockDeviceFacts& device : stack) names.push_back(device.name());
  return names;
}

TEST(BlockStack, VirtioBlkDiskWithMqAndNoSchedulerReportsItsQueue) {
  FakeHostTree tree;
  tree.AddDisk({.name = "vda",
                .number = kVda,
                .device = kVirtio1,
                .driver = "virtio_blk",
                .sectors = 20971520,
                .queue = {.scheduler = "[none] mq-deadline kyber bfq",
                          .hw_queues = 2,
                          .nr_requests = 256,
                          .write_cache = "write back",
                          .rotational = false,
                          .logical_block_size = 512,
                          .physical_block_size = 4096,
                          .max_sectors_kb = 1280,
                          .discard_max_bytes = 2147483136}});

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kVda);

  ASSERT_EQ(stack.size(), 1u);
  const v1::BlockDeviceFacts& vda = stack[0];
  EXPECT_EQ(vda.name(), "vda");
  EXPECT_EQ(vda.dev(), "254:0");
  EXPECT_EQ(vda.type(), "disk");
  EXPECT_EQ(vda.driver(), "virtio_blk");
  EXPECT_EQ(vda.blk_mq(), "on");
  EXPECT_EQ(vda.scheduler(), "none");
  EXPECT_EQ(vda.nr_hw_queues(), 2u);
  EXPECT_EQ(vda.nr_requests(), 256u);
  EXPECT_EQ(vda.write_cache(), "write back");
  EXPECT_FALSE(vda.rotational());
  EXPECT_EQ(vda.logical_block_size(), 512u);
  EXPECT_EQ(vda.physical_block_size(), 4096u);
  EXPECT_EQ(vda.max_sectors_kb(), 1280u);
  EXPECT_EQ(vda.discard_max_bytes(), 2147483136u);
  EXPECT_EQ(vda.size_bytes(), uint64_t{20971520} * 512);
  EXPECT_THAT(vda.lower(), IsEmpty());
}

TEST(BlockStack, RequestMergingIsReadFromNomergesAsAWord) {
  for (const auto& [nomerges, merges] : std::vector<std::pair<std::string, std::string>>{
           {"0", "all"}, {"1", "simple"}, {"2", "none"}, {"3", ""}, {"", ""}}) {
    FakeHostTree tree;
    tree.AddDisk({.name = "vda",
                  .number = kVda,
                  .device = kVirtio1,
                  .driver = "virtio_blk",
                  .queue = {.nomerges = nomerges}});
    const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kVda);
    ASSERT_EQ(stack.size(), 1u);
    EXPECT_EQ(stack[0].merges(), merges) << "nomerges " << nomerges;
  }
}

TEST(BlockStack, ScsiDiskBehindVirtioScsiReportsTheAdapterDriver) {
  FakeHostTree tree;
  tree.BindDriver(kVirtio2, "virtio_scsi");
  tree.WriteFile(std::string(kVirtio2) + "/host0/scsi_host/host0/proc_name", "virtio_scsi\n");
  tree.AddDisk({.name = "sda",
                .number = kSda,
                .device = std::string(kVirtio2) + "/host0/target0:0:0/0:0:0:0",
                .driver = "sd",
                .model = "QEMU HARDDISK   ",
                .queue = {.scheduler = "none [mq-deadline] kyber",
                          .write_cache = "write through",
                          .rotational = true}});

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kSda);

  ASSERT_EQ(stack.size(), 1u);
  EXPECT_EQ(stack[0].driver(), "virtio_scsi");
  EXPECT_EQ(stack[0].scheduler(), "mq-deadline");
  EXPECT_EQ(stack[0].blk_mq(), "on");
  EXPECT_EQ(stack[0].write_cache(), "write through");
  EXPECT_TRUE(stack[0].rotational());
  EXPECT_EQ(stack[0].model(), "QEMU HARDDISK");
}

TEST(BlockStack, ScsiDiskWhoseHostHasNoAdapterDriverReportsSd) {
  FakeHostTree tree;
  // An iSCSI session: the host sits under a platform node no driver binds.
  tree.AddDisk({.name = "sda",
                .number = kSda,
                .device = "/sys/devices/platform/host3/session1/target3:0:0/3:0:0:0",
                .driver = "sd"});

  EXPECT_EQ(Stack(tree, kSda).at(0).driver(), "sd");
}

TEST(BlockStack, NvmeNamespaceReportsTheDriverOfItsController) {
  FakeHostTree tree;
  tree.BindDriver("/sys/devices/pci0000:00/0000:00:05.0", "nvme");
  tree.AddDisk({.name = "nvme0n1",
                .number = kNvme,
                .device = "/sys/devices/pci0000:00/0000:00:05.0/nvme/nvme0"});

  EXPECT_EQ(Stack(tree, kNvme).at(0).driver(), "nvme");
}

TEST(BlockStack, VirtualDiskWithoutDeviceLinkIsNamedByItsMajor) {
  FakeHostTree tree;
  tree.WriteFile(
      "/proc/devices",
      "Character devices:\n  1 mem\n252 ipmidev\n\nBlock devices:\n  7 loop\n252 zram\n");
  tree.AddDisk({.name = "zram0", .number = kZram});

  EXPECT_EQ(Stack(tree, kZram).at(0).driver(), "zram");
}

TEST(BlockStack, PartitionSitsOnItsDiskAndHasTheDisksQueueAndDriver) {
  FakeHostTree tree;
  tree.AddDisk({.name = "vda",
                .number = kVda,
                .device = kVirtio1,
                .driver = "virtio_blk",
                .sectors = 8192,
                .queue = {.scheduler = "none [mq-deadline]", .hw_queues = 4}});
  tree.AddPartition("vda", "vda1", kVda1, /*sectors=*/2048);

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kVda1);

  ASSERT_THAT(Names(stack), ElementsAre("vda1", "vda"));
  const v1::BlockDeviceFacts& vda1 = stack[0];
  EXPECT_EQ(vda1.type(), "partition");
  EXPECT_EQ(vda1.dev(), "254:1");
  EXPECT_EQ(vda1.driver(), "virtio_blk");
  EXPECT_EQ(vda1.scheduler(), "mq-deadline");
  EXPECT_EQ(vda1.blk_mq(), "on");
  EXPECT_EQ(vda1.nr_hw_queues(), 4u);
  EXPECT_EQ(vda1.size_bytes(), 2048u * 512);
  EXPECT_THAT(vda1.lower(), ElementsAre("vda"));
  EXPECT_EQ(stack[1].type(), "disk");
  EXPECT_EQ(stack[1].size_bytes(), 8192u * 512);
  EXPECT_THAT(stack[1].lower(), IsEmpty());
}

TEST(BlockStack, DmOnTwoSlavesListsBothBelowIt) {
  FakeHostTree tree;
  tree.AddDisk({.name = "vdb", .number = kVdb, .device = kVirtio2, .driver = "virtio_blk"});
  tree.AddDisk({.name = "vdc", .number = kVdc, .device = kVirtio3, .driver = "virtio_blk"});
  tree.AddDm("dm-0", kDm0, "LVM-Ab3dEf", {"vdb", "vdc"});

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kDm0);

  ASSERT_THAT(Names(stack), ElementsAre("dm-0", "vdb", "vdc"));
  const v1::BlockDeviceFacts& dm = stack[0];
  EXPECT_EQ(dm.type(), "dm");
  EXPECT_EQ(dm.driver(), "device-mapper");
  EXPECT_EQ(dm.model(), "LVM");
  EXPECT_EQ(dm.blk_mq(), "off");  // bio-based
  EXPECT_EQ(dm.scheduler(), "none");
  EXPECT_EQ(dm.nr_hw_queues(), 0u);
  EXPECT_THAT(dm.lower(), ElementsAre("vdb", "vdc"));
  EXPECT_EQ(stack[1].driver(), "virtio_blk");
  EXPECT_EQ(stack[2].driver(), "virtio_blk");
}

TEST(BlockStack, OldKernelWithoutMqReportsTheLegacyQueue) {
  FakeHostTree tree;
  tree.BindDriver(kVirtio2, "virtio_scsi");
  tree.AddDisk(
      {.name = "sda",
       .number = kSda,
       .device = std::string(kVirtio2) + "/host0/target0:0:0/0:0:0:0",
       .driver = "sd",
       .queue = {.scheduler = "noop deadline [cfq]", .blk_mq = false, .nr_requests = 128}});

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kSda);

  ASSERT_EQ(stack.size(), 1u);
  EXPECT_EQ(stack[0].blk_mq(), "off");
  EXPECT_EQ(stack[0].scheduler(), "cfq");
  EXPECT_EQ(stack[0].nr_hw_queues(), 0u);
  EXPECT_EQ(stack[0].nr_requests(), 128u);
  EXPECT_EQ(stack[0].driver(), "virtio_scsi");
}

TEST(BlockStack, LoopDeviceSitsOnTheDeviceHoldingItsBackingFile) {
  FakeHostTree tree;
  tree.WriteFile("/images/disk.img", "not really a disk");
  // The backing file is real, so its st_dev is this machine's: wire that
  // number to a fake disk, as the kernel would have it.
  const sysfs::DeviceNumber host = testing::StDevOf(tree.root() / "images" / "disk.img");
  tree.AddDisk({.name = "vdb", .number = host, .device = kVirtio2, .driver = "virtio_blk"});
  constexpr sysfs::DeviceNumber kLoop0{.major = 7, .minor = 200};
  tree.AddLoop("loop0", kLoop0, "/images/disk.img");

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kLoop0);

  ASSERT_THAT(Names(stack), ElementsAre("loop0", "vdb"));
  EXPECT_EQ(stack[0].type(), "loop");
  EXPECT_EQ(stack[0].driver(), "loop");
  EXPECT_THAT(stack[0].lower(), ElementsAre("vdb"));
}

TEST(BlockStack, LoopDeviceWithDeletedBackingFileHasNothingBelow) {
  FakeHostTree tree;
  constexpr sysfs::DeviceNumber kLoop0{.major = 7, .minor = 200};
  tree.AddLoop("loop0", kLoop0, "/images/gone.img (deleted)");

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kLoop0);

  ASSERT_THAT(Names(stack), ElementsAre("loop0"));
  EXPECT_THAT(stack[0].lower(), IsEmpty());
}

TEST(DevicesOf, FileTargetIsOnTheDeviceUnderItsFilesystem) {
  FakeHostTree tree;
  tree.WriteFile("/srv/scratch.img", "a file target");
  const sysfs::DeviceNumber host = testing::StDevOf(tree.root() / "srv" / "scratch.img");
  tree.AddDisk({.name = "vdb", .number = host, .device = kVirtio2, .driver = "virtio_blk"});
  EXPECT_THAT(DevicesOf(tree.roots().system, {"/srv/scratch.img"}), ElementsAre(host));
}

TEST(DevicesOf, PathThatDoesNotExistAddsNone) {
  FakeHostTree tree;
  EXPECT_THAT(DevicesOf(tree.roots().system, {"/srv/not-yet.img"}), IsEmpty());
}

TEST(BlockStack, DeviceSysfsDoesNotKnowHasNoFacts) {
  FakeHostTree tree;
  EXPECT_THAT(Stack(tree, kVda), IsEmpty());
}

TEST(BlockStack, MissingQueueAttributesAreLeftEmpty) {
  FakeHostTree tree;
  tree.AddDisk({.name = "vda", .number = kVda});
  std::filesystem::remove_all(tree.root() / "sys/devices/virtual/block/vda/queue");
  std::filesystem::remove_all(tree.root() / "sys/devices/virtual/block/vda/mq");

  const std::vector<v1::BlockDeviceFacts> stack = Stack(tree, kVda);

  ASSERT_EQ(stack.size(), 1u);
  EXPECT_EQ(stack[0].blk_mq(), "unknown");
  EXPECT_EQ(stack[0].scheduler(), "");
  EXPECT_EQ(stack[0].nr_requests(), 0u);
  EXPECT_EQ(stack[0].driver(), "unknown");
}

}  // namespace
}  // namespace fscanary::facts
