#include "common/sysfs/proc_tables.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::sysfs {
namespace {

TEST(ParseMountInfo, ReadsNumberMountPointTypeAndSourceAcrossOptionalFields) {
  absl::StatusOr<std::vector<MountInfoEntry>> entries = ParseMountInfo(
      "36 35 98:0 /mnt1 /mnt/with\\040space rw,noatime master:1 shared:7 - ext3 /dev/root "
      "rw,errors=continue\n"
      "37 36 0:45 / /pool rw - btrfs /dev/sdb rw,subvol=/\n");

  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].number, (DeviceNumber{.major = 98, .minor = 0}));
  EXPECT_EQ((*entries)[0].mount_point, "/mnt/with space");
  EXPECT_EQ((*entries)[0].fs_type, "ext3");
  EXPECT_EQ((*entries)[0].source, "/dev/root");
  EXPECT_EQ((*entries)[1].number, (DeviceNumber{.major = 0, .minor = 45}));
  EXPECT_EQ((*entries)[1].source, "/dev/sdb");
}

TEST(ParseMountInfo, LineWithoutSeparatorIsMalformed) {
  EXPECT_EQ(ParseMountInfo("36 35 98:0 / /mnt rw ext3 /dev/root rw\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseMountInfo, BadDeviceNumberIsMalformed) {
  EXPECT_EQ(ParseMountInfo("36 35 98-0 / /mnt rw - ext3 /dev/root rw\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseSwaps, SkipsHeaderAndReadsPathAndType) {
  absl::StatusOr<std::vector<SwapsEntry>> entries = ParseSwaps(
      "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
      "/dev/dm-1                               partition\t8388604\t\t0\t\t-2\n"
      "/var/swap\\040file                       file\t\t1048572\t\t0\t\t-3\n");

  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].path, "/dev/dm-1");
  EXPECT_EQ((*entries)[0].type, "partition");
  EXPECT_EQ((*entries)[1].path, "/var/swap file");
  EXPECT_EQ((*entries)[1].type, "file");
}

TEST(ParseSwaps, EmptyTableHasNoEntries) {
  absl::StatusOr<std::vector<SwapsEntry>> entries =
      ParseSwaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  ASSERT_TRUE(entries.ok()) << entries.status();
  EXPECT_TRUE(entries->empty());
}

TEST(ParseSwaps, TruncatedRowIsMalformed) {
  EXPECT_EQ(ParseSwaps("Filename Type Size Used Priority\n/dev/sdb partition\n").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(UnescapeProcPath, DecodesOctalEscapesAndLeavesOtherBackslashes) {
  EXPECT_EQ(UnescapeProcPath("/a\\040b\\011c\\134d"), "/a b\tc\\d");
  EXPECT_EQ(UnescapeProcPath("/trailing\\04"), "/trailing\\04");
  EXPECT_EQ(UnescapeProcPath("/not\\999octal"), "/not\\999octal");
}

}  // namespace
}  // namespace fscanary::sysfs
