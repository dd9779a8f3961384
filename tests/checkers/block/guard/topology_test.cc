// InspectTopology against hand-built sysfs/procfs trees: every way a device
// can be in use, and the clean case.

#include <string>
#include <vector>

#include "checkers/block/guard/device_inspection.h"
#include "checkers/block/guard/scratch_decision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/fake_system_tree.h"

namespace fscanary::guard {
namespace {

using ::testing::ElementsAre;
using testing::FakeSystemTree;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr DeviceNumber kSdb{.major = 8, .minor = 16};
constexpr DeviceNumber kSdb1{.major = 8, .minor = 17};
constexpr DeviceNumber kSdb2{.major = 8, .minor = 18};
constexpr DeviceNumber kSdc{.major = 8, .minor = 32};
constexpr DeviceNumber kDm0{.major = 253, .minor = 0};
constexpr DeviceNumber kDm1{.major = 253, .minor = 1};
constexpr DeviceNumber kLoop3{.major = 7, .minor = 3};

auto MountAt(const std::string& mount_point, const std::string& via) {
  return AllOf(Field(&MountUse::mount_point, mount_point), Field(&MountUse::via, via));
}

// Skips a test that needs device nodes (mknod) where we may not make them.
#define MAKE_NODE_OR_SKIP(tree, path, number)                                  \
  do {                                                                         \
    if (absl::Status made = (tree).MakeDeviceNode(path, number); !made.ok()) { \
      GTEST_SKIP() << "cannot create device nodes here: " << made;             \
    }                                                                          \
  } while (false)

TEST(InspectTopology, CleanDiskReportsSizeBlockSizeAndNoUse) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb, .sectors = 2097152, .logical_block_size = 4096});
  tree.AddDisk({.name = "sdc", .number = kSdc});
  tree.SetMountInfo("30 1 8:32 / /data rw - ext4 /dev/sdc rw\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_EQ(inspection->name, "sdb");
  EXPECT_FALSE(inspection->is_partition);
  EXPECT_EQ(inspection->parent_disk, "");
  EXPECT_EQ(inspection->size_bytes, 2097152u * 512);
  EXPECT_EQ(inspection->logical_block_size, 4096u);
  EXPECT_FALSE(inspection->read_only);
  EXPECT_THAT(inspection->holders, IsEmpty());
  EXPECT_THAT(inspection->partitions, IsEmpty());
  EXPECT_THAT(inspection->mounts, IsEmpty());
  EXPECT_THAT(inspection->swaps, IsEmpty());
  EXPECT_TRUE(DecideScratchUse(*inspection, {}).ok());
}

TEST(InspectTopology, PartitionReportsItsParentDiskAndTheDisksBlockSize) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb, .sectors = 8192, .logical_block_size = 4096});
  tree.AddPartition(
      {.disk = "sdb", .name = "sdb2", .number = kSdb2, .sectors = 4096, .partition_number = 2});

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb2", kSdb2, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_EQ(inspection->name, "sdb2");
  EXPECT_TRUE(inspection->is_partition);
  EXPECT_EQ(inspection->parent_disk, "sdb");
  EXPECT_EQ(inspection->size_bytes, 4096u * 512);
  EXPECT_EQ(inspection->logical_block_size, 4096u);
  EXPECT_TRUE(DecideScratchUse(*inspection, {}).ok());
}

TEST(InspectTopology, DiskWithPartitionsListsThemAndIsRefused) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddPartition({.disk = "sdb", .name = "sdb2", .number = kSdb2, .partition_number = 2});
  tree.AddPartition({.disk = "sdb", .name = "sdb1", .number = kSdb1, .partition_number = 1});

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->partitions, ElementsAre("sdb1", "sdb2"));
  const absl::Status verdict = DecideScratchUse(*inspection, {.take_over_foreign_signature = true});
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(verdict.message()), HasSubstr("/dev/sdb has partitions: sdb1, sdb2"));
}

TEST(InspectTopology, MountedDeviceIsReportedWithItsMountPoint) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "loop3", .number = kLoop3});
  tree.SetMountInfo(
      "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "40 22 7:3 / /mnt/x rw,relatime shared:9 master:2 - ext4 /dev/loop3 rw\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/loop3", kLoop3, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->mounts, ElementsAre(MountAt("/mnt/x", "loop3")));
  const absl::Status verdict = DecideScratchUse(*inspection, {.take_over_foreign_signature = true});
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(verdict.message()), HasSubstr("/dev/loop3 is mounted at /mnt/x"));
}

TEST(InspectTopology, MountOfAPartitionMarksTheWholeDisk) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddPartition({.disk = "sdb", .name = "sdb1", .number = kSdb1});
  tree.SetMountInfo("41 1 8:17 / /boot rw - vfat /dev/sdb1 rw\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->mounts, ElementsAre(MountAt("/boot", "sdb1")));
  EXPECT_THAT(std::string(DecideScratchUse(*inspection, {}).message()),
              HasSubstr("/dev/sdb is mounted at /boot (through sdb1)"));
}

TEST(InspectTopology, MountOfADeviceStackedTwoLevelsUpIsFound) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddDisk({.name = "dm-0", .number = kDm0});
  tree.AddDisk({.name = "dm-1", .number = kDm1});
  tree.AddHolder("sdb", "dm-0");
  tree.AddHolder("dm-0", "dm-1");
  tree.SetMountInfo("42 1 253:1 / /srv/data rw - xfs /dev/mapper/vg-data rw\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->holders, ElementsAre("dm-0"));
  EXPECT_THAT(inspection->mounts, ElementsAre(MountAt("/srv/data", "dm-1")));
  const std::string message(DecideScratchUse(*inspection, {}).message());
  EXPECT_THAT(message, HasSubstr("/dev/sdb has holders: dm-0"));
  EXPECT_THAT(message, HasSubstr("/dev/sdb is mounted at /srv/data (through dm-1)"));
}

TEST(InspectTopology, UnmountedHolderStillRefusesTheDevice) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddDisk({.name = "md0", .number = {.major = 9, .minor = 0}});
  tree.AddHolder("sdb", "md0");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->mounts, IsEmpty());
  const absl::Status verdict = DecideScratchUse(*inspection, {.take_over_foreign_signature = true});
  EXPECT_EQ(verdict.message(), "/dev/sdb has holders: md0");
}

TEST(InspectTopology, MountPointWithASpaceIsUnescaped) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.SetMountInfo("43 1 8:16 / /mnt/my\\040disk rw - ext4 /dev/sdb rw\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->mounts, ElementsAre(MountAt("/mnt/my disk", "sdb")));
}

// btrfs shows an anonymous 0:N in mountinfo; only the source names the device.
TEST(InspectTopology, BtrfsMountIsFoundThroughItsSource) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.SetMountInfo("44 1 0:45 / /var/lib/data rw - btrfs /dev/sdb rw,subvol=/\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->mounts, ElementsAre(MountAt("/var/lib/data", "sdb")));
}

TEST(InspectTopology, MountSourceIsComparedByDeviceNumberNotName) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddDisk({.name = "sdc", .number = kSdc});
  // The node called /dev/sdb here is really sdc (think of a container's /dev).
  MAKE_NODE_OR_SKIP(tree, "/dev/sdb", kSdc);
  tree.SetMountInfo("45 1 0:46 / /pool rw - btrfs /dev/sdb rw\n");

  absl::StatusOr<DeviceInspection> sdb = InspectTopology("/dev/sdb", kSdb, tree.roots());
  absl::StatusOr<DeviceInspection> sdc = InspectTopology("/dev/sdc", kSdc, tree.roots());

  ASSERT_TRUE(sdb.ok()) << sdb.status();
  ASSERT_TRUE(sdc.ok()) << sdc.status();
  EXPECT_THAT(sdb->mounts, IsEmpty());
  EXPECT_THAT(sdc->mounts, ElementsAre(MountAt("/pool", "sdc")));
}

TEST(InspectTopology, SwapDeviceIsComparedByDeviceNumberNotName) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddDisk({.name = "sdc", .number = kSdc});
  // The swap area is named by an alias that is no kernel name.
  MAKE_NODE_OR_SKIP(tree, "/dev/mapper/swapvol", kSdc);
  tree.SetSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/mapper/swapvol                     partition\t1048572\t\t0\t\t-2\n");

  absl::StatusOr<DeviceInspection> sdb = InspectTopology("/dev/sdb", kSdb, tree.roots());
  absl::StatusOr<DeviceInspection> sdc = InspectTopology("/dev/sdc", kSdc, tree.roots());

  ASSERT_TRUE(sdb.ok()) << sdb.status();
  ASSERT_TRUE(sdc.ok()) << sdc.status();
  EXPECT_THAT(sdb->swaps, IsEmpty());
  ASSERT_EQ(sdc->swaps.size(), 1u);
  EXPECT_EQ(sdc->swaps[0].swap_path, "/dev/mapper/swapvol");
  EXPECT_EQ(DecideScratchUse(*sdc, {}).message(), "/dev/sdc is in use as swap");
}

TEST(InspectTopology, SwapOnAPartitionWhoseNodeIsGoneIsFoundByKernelName) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.AddPartition({.disk = "sdb", .name = "sdb2", .number = kSdb2, .partition_number = 2});
  tree.SetSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/sdb2                               partition\t1048572\t\t0\t\t-2\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  ASSERT_EQ(inspection->swaps.size(), 1u);
  EXPECT_EQ(inspection->swaps[0].via, "sdb2");
  EXPECT_THAT(std::string(DecideScratchUse(*inspection, {}).message()),
              HasSubstr("/dev/sdb is in use as swap (through sdb2)"));
}

TEST(InspectTopology, SwapFileDoesNotMarkAnyDevice) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.SetSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/sdb                                    file\t\t1048572\t\t0\t\t-2\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_THAT(inspection->swaps, IsEmpty());
}

TEST(InspectTopology, SwapDeviceThatCannotBePlacedFailsClosed) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.SetSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/ghost                              partition\t1048572\t\t0\t\t-2\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  EXPECT_EQ(inspection.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(inspection.status().message()), HasSubstr("/dev/ghost"));
}

TEST(InspectTopology, ReadOnlyDeviceIsRefused) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb, .read_only = true});

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_TRUE(inspection->read_only);
  EXPECT_EQ(DecideScratchUse(*inspection, {}).message(), "/dev/sdb is read-only");
}

TEST(InspectTopology, PartitionOfAReadOnlyDiskIsReadOnly) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb, .read_only = true});
  tree.AddPartition({.disk = "sdb", .name = "sdb1", .number = kSdb1});

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb1", kSdb1, tree.roots());

  ASSERT_TRUE(inspection.ok()) << inspection.status();
  EXPECT_TRUE(inspection->read_only);
}

TEST(InspectTopology, DeviceNumberUnknownToSysfsIsNotFound) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});

  absl::StatusOr<DeviceInspection> inspection =
      InspectTopology("/dev/sdz", {.major = 65, .minor = 144}, tree.roots());

  EXPECT_EQ(inspection.status().code(), absl::StatusCode::kNotFound);
}

TEST(InspectTopology, UnreadableMountTableIsAnErrorNotAnUnmountedDevice) {
  FakeSystemTree tree;
  tree.AddDisk({.name = "sdb", .number = kSdb});
  tree.SetMountInfo("this is not mountinfo\n");

  absl::StatusOr<DeviceInspection> inspection = InspectTopology("/dev/sdb", kSdb, tree.roots());

  EXPECT_EQ(inspection.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fscanary::guard
