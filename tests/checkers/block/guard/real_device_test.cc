// InspectBlockDevice and DecideScratchUse on real loop devices: blank,
// formatted, partitioned, mounted, swapped on, read-only. Root only; skipped
// (with the reason) where loop devices or the tools are missing.

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "checkers/block/guard/device_inspection.h"
#include "checkers/block/guard/scratch_decision.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/system_fixtures.h"
#include "tests/status_assertions.h"

namespace fscanary::guard {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using testing::FindTool;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::LoopDevice;
using ::testing::Not;
using testing::RunTool;
using testing::ScopedMount;
using testing::ScopedSwap;
using testing::TempDir;

constexpr uint64_t kMiB = uint64_t{1} << 20;

#define REQUIRE_TOOL(name) \
  if (!FindTool(name)) GTEST_SKIP() << name << " is not installed"

constexpr GuardOptions kMostPermissive{.take_over_foreign_signature = true};

class RealLoopDevice : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to set up loop devices";
    if (!fs::exists("/dev/loop-control")) GTEST_SKIP() << "the kernel has no loop device support";
    REQUIRE_TOOL("losetup");
  }

  // A sparse file: costs no disk space until something writes to it.
  fs::path SparseImage(uint64_t bytes) {
    const fs::path image = dir_.path() / "image";
    std::ofstream(image).close();
    fs::resize_file(image, bytes);
    return image;
  }

  fs::path MountPoint() {
    const fs::path mount_point = dir_.path() / "mnt";
    fs::create_directories(mount_point);
    return fs::canonical(mount_point);  // as mountinfo will spell it
  }

  TempDir dir_;
};

std::string Refusal(const DeviceInspection& inspection, const GuardOptions& options = {}) {
  const absl::Status verdict = DecideScratchUse(inspection, options);
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  return std::string(verdict.message());
}

auto SignatureOfType(const std::string& type) { return Field(&Signature::type, type); }

TEST_F(RealLoopDevice, BlankDeviceIsAccepted) {
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(64 * kMiB), {}));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  EXPECT_EQ(inspection.name, loop.name());
  EXPECT_EQ(inspection.number.major, 7u);  // the loop driver's major
  EXPECT_FALSE(inspection.is_partition);
  EXPECT_EQ(inspection.size_bytes, 64 * kMiB);
  EXPECT_EQ(inspection.logical_block_size, 512u);
  EXPECT_FALSE(inspection.read_only);
  EXPECT_FALSE(inspection.claimed_by_kernel);
  EXPECT_THAT(inspection.signatures, IsEmpty());
  EXPECT_THAT(inspection.mounts, IsEmpty());
  EXPECT_THAT(inspection.swaps, IsEmpty());
  EXPECT_TRUE(DecideScratchUse(inspection, {}).ok()) << DecideScratchUse(inspection, {});
  EXPECT_TRUE(CheckWithinDevice(inspection, 64 * kMiB).ok());
  EXPECT_EQ(CheckWithinDevice(inspection, 64 * kMiB + 512).code(), absl::StatusCode::kOutOfRange);
}

TEST_F(RealLoopDevice, SymlinkIsResolvedToTheDeviceItNames) {
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(16 * kMiB), {}));
  const fs::path link = dir_.path() / "by-id-scratch";
  fs::create_symlink(loop.path(), link);

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(link.string()));

  EXPECT_EQ(inspection.name, loop.name());
  EXPECT_EQ(inspection.DisplayName(), absl::StrCat(link.string(), " (", loop.path(), ")"));
}

TEST_F(RealLoopDevice, RegularFileIsNotABlockDevice) {
  const fs::path image = SparseImage(16 * kMiB);
  EXPECT_EQ(InspectBlockDevice(image.string()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InspectBlockDevice((dir_.path() / "missing").string()).status().code(),
            absl::StatusCode::kNotFound);
}

struct FormatCase {
  std::string tool;
  std::vector<std::string> flags;
  std::string type;
};

std::string FormatName(const ::testing::TestParamInfo<FormatCase>& param) {
  return param.param.type;
}

// Names the case in test output instead of dumping its bytes.
void PrintTo(const FormatCase& format, std::ostream* out) { *out << format.tool; }

class FreshlyFormattedDevice : public RealLoopDevice,
                               public ::testing::WithParamInterface<FormatCase> {};

TEST_P(FreshlyFormattedDevice, IsRefusedUnlessTakenOver) {
  const FormatCase& format = GetParam();
  REQUIRE_TOOL(format.tool);
  // 320 MiB: mkfs.xfs refuses anything under 300 MiB. Sparse, so cheap.
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(320 * kMiB), {}));
  std::vector<std::string> mkfs = {format.tool};
  mkfs.insert(mkfs.end(), format.flags.begin(), format.flags.end());
  mkfs.push_back(loop.path());
  ASSERT_OK(RunTool(mkfs));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  ASSERT_THAT(inspection.signatures, Contains(SignatureOfType(format.type)));
  const std::string message = Refusal(inspection);
  EXPECT_THAT(message, HasSubstr(absl::StrCat(loop.path(), " carries ")));
  EXPECT_THAT(message, HasSubstr(format.type));
  EXPECT_THAT(message, HasSubstr(absl::StrCat("`", kTakeOverCommand, " --target ", loop.path())));
  EXPECT_TRUE(DecideScratchUse(inspection, {.take_over_foreign_signature = true}).ok());
}

INSTANTIATE_TEST_SUITE_P(Formats, FreshlyFormattedDevice,
                         ::testing::Values(FormatCase{"mkfs.ext4", {"-q", "-F"}, "ext4"},
                                           FormatCase{"mkfs.xfs", {"-q", "-f"}, "xfs"},
                                           FormatCase{"mkfs.btrfs", {"-q", "-f"}, "btrfs"},
                                           FormatCase{"mkswap", {}, "swap"}),
                         FormatName);

TEST_F(RealLoopDevice, Ext4IsNamedWithTheUuidBlkidReports) {
  REQUIRE_TOOL("mkfs.ext4");
  REQUIRE_TOOL("blkid");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(64 * kMiB), {}));
  ASSERT_OK(RunTool({"mkfs.ext4", "-q", "-F", "-L", "olddata", loop.path()}));
  ASSERT_OK_AND_ASSIGN(const std::string uuid_line,
                       RunTool({"blkid", "-p", "-o", "value", "-s", "UUID", loop.path()}));
  const std::string uuid(absl::StripAsciiWhitespace(uuid_line));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  EXPECT_EQ(Refusal(inspection),
            absl::StrCat(loop.path(), " carries an ext4 filesystem (UUID ", uuid,
                         ", label olddata, magic at byte 1080); ", TakeOverHint(loop.path())));
}

TEST_F(RealLoopDevice, ActiveSwapIsRefusedAndAfterSwapoffOnlyItsSignatureRemains) {
  REQUIRE_TOOL("mkswap");
  REQUIRE_TOOL("swapon");
  REQUIRE_TOOL("swapoff");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(64 * kMiB), {}));
  ASSERT_OK(RunTool({"mkswap", loop.path()}));
  {
    ASSERT_OK_AND_ASSIGN(ScopedSwap swap, ScopedSwap::On(loop.path()));

    ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

    ASSERT_EQ(inspection.swaps.size(), 1u);
    EXPECT_EQ(inspection.swaps[0].via, loop.name());
    EXPECT_TRUE(inspection.claimed_by_kernel);
    EXPECT_THAT(Refusal(inspection, kMostPermissive),
                HasSubstr(absl::StrCat(loop.path(), " is in use as swap")));
  }
  ASSERT_OK_AND_ASSIGN(DeviceInspection after, InspectBlockDevice(loop.path()));
  EXPECT_THAT(after.swaps, IsEmpty());
  EXPECT_FALSE(after.claimed_by_kernel);
  EXPECT_THAT(after.signatures, ElementsAre(SignatureOfType("swap")));
  EXPECT_TRUE(DecideScratchUse(after, {.take_over_foreign_signature = true}).ok());
}

class PartitionTableWrittenBySfdisk : public RealLoopDevice,
                                      public ::testing::WithParamInterface<std::string> {};

TEST_P(PartitionTableWrittenBySfdisk, IsRefusedAsAForeignSignature) {
  const std::string& label = GetParam();
  REQUIRE_TOOL("sfdisk");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(64 * kMiB), {}));
  ASSERT_OK(RunTool({"sfdisk", "--quiet", loop.path()}, absl::StrCat("label: ", label, "\n,8M\n")));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  EXPECT_THAT(
      inspection.signatures,
      ElementsAre(AllOf(SignatureOfType(label), Field(&Signature::usage, "partition table"))));
  EXPECT_THAT(Refusal(inspection),
              HasSubstr(absl::StrCat(loop.path(), " carries a ", label, " partition table")));
}

INSTANTIATE_TEST_SUITE_P(Labels, PartitionTableWrittenBySfdisk, ::testing::Values("gpt", "dos"),
                         [](const ::testing::TestParamInfo<std::string>& param) {
                           return param.param;
                         });

// The same check without sfdisk: a minimal MBR with one Linux partition.
TEST_F(RealLoopDevice, HandWrittenDosPartitionTableIsRefused) {
  const fs::path image = SparseImage(16 * kMiB);
  {
    std::string mbr(512, '\0');
    mbr[446 + 4] = '\x83';                           // partition type: Linux
    mbr[446 + 8] = '\x00', mbr[446 + 9] = '\x08';    // first LBA 2048, little-endian
    mbr[446 + 12] = '\x00', mbr[446 + 13] = '\x40';  // 16384 sectors
    mbr[510] = '\x55', mbr[511] = '\xaa';
    std::fstream file(image, std::ios::in | std::ios::out | std::ios::binary);
    file.write(mbr.data(), static_cast<std::streamsize>(mbr.size()));
    ASSERT_TRUE(file.good());
  }
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(image, {}));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  EXPECT_THAT(inspection.signatures, ElementsAre(SignatureOfType("dos")));
  EXPECT_THAT(Refusal(inspection), HasSubstr(" carries a dos partition table"));
}

// Writes a DOS table with two partitions and makes sure the kernel has
// created them: it scans it itself if it has the partition parser; if not,
// partx adds them (BLKPG). Both finish before returning: no waiting needed.
void PartitionInTwo(const LoopDevice& loop) {
  ASSERT_OK(RunTool({"sfdisk", "--quiet", loop.path()}, "label: dos\n,16M\n,\n"));
  ASSERT_OK(RunTool({"partx", "--update", loop.path()}));
  ASSERT_TRUE(fs::exists(loop.partition(2))) << loop.partition(2) << " did not appear";
}

TEST_F(RealLoopDevice, PartitionedDiskIsRefusedButItsBlankPartitionIsAccepted) {
  REQUIRE_TOOL("sfdisk");
  REQUIRE_TOOL("partx");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop,
                       LoopDevice::Attach(SparseImage(64 * kMiB), {.partition_scan = true}));
  ASSERT_NO_FATAL_FAILURE(PartitionInTwo(loop));

  ASSERT_OK_AND_ASSIGN(DeviceInspection disk, InspectBlockDevice(loop.path()));
  ASSERT_OK_AND_ASSIGN(DeviceInspection partition, InspectBlockDevice(loop.partition(2)));

  const std::string p1 = loop.name() + "p1", p2 = loop.name() + "p2";
  EXPECT_THAT(disk.partitions, ElementsAre(p1, p2));
  const std::string message = Refusal(disk, kMostPermissive);
  EXPECT_EQ(message, absl::StrCat(loop.path(), " has partitions: ", p1, ", ", p2));

  EXPECT_EQ(partition.name, p2);
  EXPECT_TRUE(partition.is_partition);
  EXPECT_EQ(partition.parent_disk, loop.name());
  EXPECT_EQ(partition.size_bytes, 64 * kMiB - 17 * kMiB);  // 1 MiB alignment gap + 16 MiB p1
  EXPECT_THAT(partition.signatures, IsEmpty());
  EXPECT_TRUE(DecideScratchUse(partition, {}).ok()) << DecideScratchUse(partition, {});
}

TEST_F(RealLoopDevice, MountedFilesystemIsRefusedEvenWhenTakingOver) {
  REQUIRE_TOOL("mkfs.ext4");
  REQUIRE_TOOL("mount");
  REQUIRE_TOOL("umount");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop, LoopDevice::Attach(SparseImage(64 * kMiB), {}));
  ASSERT_OK(RunTool({"mkfs.ext4", "-q", "-F", loop.path()}));
  const fs::path mount_point = MountPoint();
  {
    ASSERT_OK_AND_ASSIGN(ScopedMount mount, ScopedMount::Mount(loop.path(), mount_point));

    ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

    EXPECT_TRUE(inspection.claimed_by_kernel);
    EXPECT_EQ(Refusal(inspection, kMostPermissive),
              absl::StrCat(loop.path(), " is mounted at ", mount_point.string()));
  }
  ASSERT_OK_AND_ASSIGN(DeviceInspection after, InspectBlockDevice(loop.path()));
  EXPECT_THAT(after.mounts, IsEmpty());
  EXPECT_TRUE(DecideScratchUse(after, {.take_over_foreign_signature = true}).ok());
}

TEST_F(RealLoopDevice, MountedPartitionMakesTheWholeDiskInUse) {
  REQUIRE_TOOL("sfdisk");
  REQUIRE_TOOL("partx");
  REQUIRE_TOOL("mkfs.ext4");
  REQUIRE_TOOL("mount");
  REQUIRE_TOOL("umount");
  ASSERT_OK_AND_ASSIGN(LoopDevice loop,
                       LoopDevice::Attach(SparseImage(64 * kMiB), {.partition_scan = true}));
  ASSERT_NO_FATAL_FAILURE(PartitionInTwo(loop));
  ASSERT_OK(RunTool({"mkfs.ext4", "-q", "-F", loop.partition(1)}));
  const fs::path mount_point = MountPoint();
  ASSERT_OK_AND_ASSIGN(ScopedMount mount, ScopedMount::Mount(loop.partition(1), mount_point));

  ASSERT_OK_AND_ASSIGN(DeviceInspection disk, InspectBlockDevice(loop.path()));

  EXPECT_TRUE(disk.claimed_by_kernel);
  EXPECT_THAT(Refusal(disk, kMostPermissive),
              HasSubstr(absl::StrCat(loop.path(), " is mounted at ", mount_point.string(),
                                     " (through ", loop.name(), "p1)")));
}

TEST_F(RealLoopDevice, ReadOnlyDeviceIsRefused) {
  ASSERT_OK_AND_ASSIGN(LoopDevice loop,
                       LoopDevice::Attach(SparseImage(16 * kMiB), {.read_only = true}));

  ASSERT_OK_AND_ASSIGN(DeviceInspection inspection, InspectBlockDevice(loop.path()));

  EXPECT_TRUE(inspection.read_only);
  EXPECT_EQ(Refusal(inspection, kMostPermissive), absl::StrCat(loop.path(), " is read-only"));
}

}  // namespace
}  // namespace fscanary::guard
