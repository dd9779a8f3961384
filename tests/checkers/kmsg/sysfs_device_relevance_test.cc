// Which devices' kernel errors are reported: those under a mounted filesystem,
// a swap area or a target, found through a hand-built sysfs and procfs; and,
// when in doubt, every device.
#include "checkers/kmsg/sysfs_device_relevance.h"

#include "gtest/gtest.h"
#include "tests/checkers/kmsg/fake_block_tree.h"

namespace fscanary::kmsg {
namespace {

using testing::FakeBlockTree;

constexpr sysfs::DeviceNumber kVda{254, 0};
constexpr sysfs::DeviceNumber kVda1{254, 1};
constexpr sysfs::DeviceNumber kVdb{254, 16};
constexpr sysfs::DeviceNumber kVdc{254, 32};
constexpr sysfs::DeviceNumber kVdc1{254, 33};
constexpr sysfs::DeviceNumber kDm0{253, 0};
constexpr sysfs::DeviceNumber kFd0{2, 0};
constexpr sysfs::DeviceNumber kSda{8, 0};
constexpr sysfs::DeviceNumber kSdb{8, 16};
constexpr sysfs::DeviceNumber kSdb2{8, 18};

constexpr char kVirtio1[] = "/sys/devices/pci0000:00/0000:00:04.0/virtio1";
constexpr char kVirtio3[] = "/sys/devices/pci0000:00/0000:00:06.0/virtio3";
constexpr char kScsi200[] =
    "/sys/devices/pci0000:00/0000:00:03.0/virtio0/host2/target2:0:0/2:0:0:0";

// A Debian guest under QEMU: the root filesystem on vda1, and the empty
// floppy drive fd0 that fails its boot-time probe.
class GuestTree : public ::testing::Test {
 protected:
  GuestTree() {
    tree_.AddDisk("vda", kVda, kVirtio1);
    tree_.AddPartition("vda", "vda1", kVda1);
    tree_.AddDisk("fd0", kFd0, "/sys/devices/platform/floppy.0");
    tree_.Mount("vda1", kVda1, "/");
  }

  Relevance Judge(std::string_view device, std::vector<sysfs::DeviceNumber> targets = {}) {
    SysfsDeviceRelevance relevance({.roots = tree_.roots(), .target_devices = std::move(targets)});
    return relevance.Judge(device);
  }

  FakeBlockTree tree_;
};

TEST_F(GuestTree, DiskOfAMountedPartitionIsRelevant) {
  const Relevance relevance = Judge("vda");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "vda1 is mounted at /");
}

TEST_F(GuestTree, MountedPartitionIsRelevant) { EXPECT_TRUE(Judge("vda1").relevant); }

TEST_F(GuestTree, DiskNothingIsOnIsNotRelevant) {
  const Relevance relevance = Judge("fd0");
  EXPECT_FALSE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "fd0 backs no mounted filesystem, swap area or target");
}

TEST_F(GuestTree, DiskUnderAMountedDmDeviceIsRelevant) {
  tree_.AddDisk("vdb", kVdb);
  tree_.AddDm("dm-0", kDm0, {"vdb"});
  tree_.Mount("dm-0", kDm0, "/data");
  const Relevance relevance = Judge("vdb");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "dm-0 is mounted at /data");
}

TEST_F(GuestTree, DmDeviceOverADiskWithAMountedPartitionIsRelevant) {
  // The error names the dm device; what is mounted is a partition of the
  // disk under it: they share the disk.
  tree_.AddDisk("vdb", kVdb);
  tree_.AddDm("dm-0", kDm0, {"vdb"});
  tree_.Mount("vdb", kVdb, "/srv");
  EXPECT_TRUE(Judge("dm-0").relevant);
}

TEST_F(GuestTree, UnmountedDmDeviceOnAnUnusedDiskIsNotRelevant) {
  tree_.AddDisk("vdb", kVdb);
  tree_.AddDm("dm-0", kDm0, {"vdb"});
  EXPECT_FALSE(Judge("dm-0").relevant);
  EXPECT_FALSE(Judge("vdb").relevant);
}

TEST_F(GuestTree, DiskUnderARawDeviceTargetIsRelevant) {
  tree_.AddDisk("vdc", kVdc);
  tree_.AddPartition("vdc", "vdc1", kVdc1);
  const Relevance relevance = Judge("vdc", /*targets=*/{kVdc1});
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "a target is on 254:33, built on vdc");
}

TEST_F(GuestTree, ActiveSwapPartitionMakesItsDiskRelevant) {
  tree_.AddDisk("sdb", kSdb);
  tree_.AddPartition("sdb", "sdb2", kSdb2);
  tree_.AddSwap("sdb2");
  const Relevance relevance = Judge("sdb");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "sdb2 is swap");
}

TEST_F(GuestTree, FilesystemMountedSinceTheStartCounts) {
  SysfsDeviceRelevance relevance({.roots = tree_.roots()});
  ASSERT_FALSE(relevance.Judge("fd0").relevant);
  tree_.Mount("fd0", kFd0, "/media/floppy");
  EXPECT_TRUE(relevance.Judge("fd0").relevant);
}

TEST_F(GuestTree, NameSysfsDoesNotKnowIsRelevant) {
  const Relevance relevance = Judge("sdq");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "no block device sdq in sysfs");
}

TEST_F(GuestTree, NameThatIsNotADeviceNameIsRelevant) {
  EXPECT_TRUE(Judge("../../block/fd0").relevant);
  EXPECT_TRUE(Judge("mapper/vg-data").relevant);
  EXPECT_TRUE(Judge("..").relevant);
}

TEST_F(GuestTree, UnreadableMountTableMakesEveryDeviceRelevant) {
  tree_.RemoveMountInfo();
  const Relevance relevance = Judge("fd0");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_NE(relevance.reason.find("cannot tell what is on fd0"), std::string::npos)
      << relevance.reason;
}

TEST_F(GuestTree, ScsiAddressResolvesToItsDisk) {
  tree_.AddDisk("sda", kSda, kScsi200);
  tree_.AddScsiDevice("2:0:0:0", kScsi200);
  // Not relevant can only come from finding sda: an address left unresolved
  // would be relevant.
  EXPECT_FALSE(Judge("2:0:0:0").relevant);
  tree_.Mount("sda", kSda, "/scratch");
  EXPECT_TRUE(Judge("2:0:0:0").relevant);
}

TEST_F(GuestTree, ScsiAddressWithoutADiskIsRelevant) {
  // A SCSI device that is no disk (a changer, an enclosure): no block/.
  tree_.AddScsiDevice("2:0:1:0",
                      "/sys/devices/pci0000:00/0000:00:03.0/virtio0/host2/target2:0:1/2:0:1:0");
  const Relevance relevance = Judge("2:0:1:0");
  EXPECT_TRUE(relevance.relevant);
  EXPECT_EQ(relevance.reason, "no block device 2:0:1:0 in sysfs");
}

TEST_F(GuestTree, VirtioNameResolvesToItsDisk) {
  tree_.AddDisk("vdd", {254, 48}, kVirtio3);
  tree_.AddVirtioDevice("virtio3", kVirtio3);
  tree_.AddVirtioDevice("virtio1", kVirtio1);
  EXPECT_FALSE(Judge("virtio3").relevant) << "vdd, on which nothing is";
  EXPECT_TRUE(Judge("virtio1").relevant) << "vda, whose vda1 is mounted";
}

TEST_F(GuestTree, VirtioDeviceThatIsNoDiskIsRelevant) {
  tree_.AddVirtioDevice("virtio2", "/sys/devices/pci0000:00/0000:00:05.0/virtio2");
  EXPECT_TRUE(Judge("virtio2").relevant);
}

}  // namespace
}  // namespace fscanary::kmsg
