// DecideScratchUse and CheckWithinDevice from literal inspections.

#include "checkers/block/guard/scratch_decision.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::guard {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kGiB = uint64_t{1} << 30;

DeviceInspection CleanSdb() {
  DeviceInspection inspection;
  inspection.path = "/dev/sdb";
  inspection.number = {.major = 8, .minor = 16};
  inspection.name = "sdb";
  inspection.size_bytes = kGiB;
  inspection.logical_block_size = 512;
  return inspection;
}

const Signature kExt4{.type = "ext4", .usage = "filesystem", .uuid = "0f3c5b1e", .label = ""};

std::string Refusal(const DeviceInspection& inspection, const GuardOptions& options = {}) {
  const absl::Status verdict = DecideScratchUse(inspection, options);
  EXPECT_EQ(verdict.code(), absl::StatusCode::kFailedPrecondition);
  return std::string(verdict.message());
}

// Options that would let through anything that can be let through.
constexpr GuardOptions kMostPermissive{.take_over_foreign_signature = true};

TEST(DecideScratchUse, BlankUnusedDeviceIsAccepted) {
  EXPECT_TRUE(DecideScratchUse(CleanSdb(), {}).ok());
}

TEST(DecideScratchUse, MountedDeviceIsRefusedWhateverTheOptions) {
  DeviceInspection inspection = CleanSdb();
  inspection.mounts = {{.mount_point = "/mnt/x", .via = "sdb"},
                       {.mount_point = "/mnt/y", .via = "sdb"}};
  EXPECT_EQ(Refusal(inspection, kMostPermissive), "/dev/sdb is mounted at /mnt/x, /mnt/y");
}

TEST(DecideScratchUse, DeviceWithHoldersIsRefusedWhateverTheOptions) {
  DeviceInspection inspection = CleanSdb();
  inspection.holders = {"dm-0", "md127"};
  EXPECT_EQ(Refusal(inspection, kMostPermissive), "/dev/sdb has holders: dm-0, md127");
}

TEST(DecideScratchUse, DiskWithPartitionsIsRefusedWhateverTheOptions) {
  DeviceInspection inspection = CleanSdb();
  inspection.partitions = {"sdb1", "sdb2"};
  EXPECT_EQ(Refusal(inspection, kMostPermissive), "/dev/sdb has partitions: sdb1, sdb2");
}

TEST(DecideScratchUse, SwapDeviceIsRefusedWhateverTheOptions) {
  DeviceInspection inspection = CleanSdb();
  inspection.swaps = {{.swap_path = "/dev/sdb", .via = "sdb"}};
  EXPECT_EQ(Refusal(inspection, kMostPermissive), "/dev/sdb is in use as swap");
}

TEST(DecideScratchUse, ReadOnlyDeviceIsRefusedWhateverTheOptions) {
  DeviceInspection inspection = CleanSdb();
  inspection.read_only = true;
  EXPECT_EQ(Refusal(inspection, kMostPermissive), "/dev/sdb is read-only");
}

TEST(DecideScratchUse, DeviceTheKernelWillNotLetUsClaimIsRefused) {
  DeviceInspection inspection = CleanSdb();
  inspection.claimed_by_kernel = true;
  EXPECT_THAT(Refusal(inspection, kMostPermissive),
              HasSubstr("/dev/sdb is held exclusively by another user"));
}

TEST(DecideScratchUse, KernelClaimIsNotRepeatedWhenAMountExplainsIt) {
  DeviceInspection inspection = CleanSdb();
  inspection.claimed_by_kernel = true;
  inspection.mounts = {{.mount_point = "/mnt/x", .via = "sdb"}};
  EXPECT_EQ(Refusal(inspection), "/dev/sdb is mounted at /mnt/x");
}

TEST(DecideScratchUse, ForeignFilesystemIsRefusedWithTheWayToTakeItOver) {
  DeviceInspection inspection = CleanSdb();
  inspection.signatures = {kExt4};
  EXPECT_EQ(
      Refusal(inspection),
      "/dev/sdb carries an ext4 filesystem (UUID 0f3c5b1e); if what it holds is dead data, take it "
      "over once with `fscanary-agent take-over --target /dev/sdb` (with the agent's --config, or "
      "--state-dir); it says what it found and what it would do before doing it");
}

TEST(DecideScratchUse, EverySignatureIsNamed) {
  DeviceInspection inspection = CleanSdb();
  inspection.signatures = {{.type = "xfs", .usage = "filesystem", .uuid = "u1", .label = "data"},
                           {.type = "gpt", .usage = "partition table", .uuid = "p1", .label = ""},
                           {.type = "LVM2_member", .usage = "raid", .uuid = "", .label = ""},
                           {.type = "crypto_LUKS", .usage = "crypto", .uuid = "c1", .label = ""}};
  EXPECT_EQ(Refusal(inspection),
            "/dev/sdb carries an xfs filesystem (UUID u1, label data) and a gpt partition table "
            "(UUID p1) and a LVM2_member signature and a crypto_LUKS encrypted volume (UUID c1); " +
                TakeOverHint("/dev/sdb"));
}

TEST(DecideScratchUse, TakeOverAcceptsAForeignSignature) {
  DeviceInspection inspection = CleanSdb();
  inspection.signatures = {kExt4};
  EXPECT_TRUE(DecideScratchUse(inspection, {.take_over_foreign_signature = true}).ok());
}

TEST(DecideScratchUse, WhereTheMagicLiesIsNamed) {
  DeviceInspection inspection = CleanSdb();
  inspection.signatures = {
      {.type = "LVM2_member", .usage = "raid", .magic_offset = 536, .magic_length = 8}};
  EXPECT_THAT(Refusal(inspection), HasSubstr("a LVM2_member signature (magic at byte 536)"));
}

TEST(DecideScratchUse, SignatureOnADeviceInUseDoesNotSuggestTakingItOver) {
  DeviceInspection inspection = CleanSdb();
  inspection.signatures = {kExt4};
  inspection.mounts = {{.mount_point = "/data", .via = "sdb"}};
  const std::string message = Refusal(inspection);
  EXPECT_EQ(message,
            "/dev/sdb is mounted at /data; /dev/sdb carries an ext4 filesystem (UUID 0f3c5b1e)");
  EXPECT_THAT(message, Not(HasSubstr(kTakeOverCommand)));
}

TEST(DecideScratchUse, RefusalNamesTheLinkAndTheKernelDevice) {
  DeviceInspection inspection = CleanSdb();
  inspection.path = "/dev/disk/by-id/virtio-scratch";
  inspection.read_only = true;
  EXPECT_EQ(Refusal(inspection), "/dev/disk/by-id/virtio-scratch (/dev/sdb) is read-only");
}

TEST(CheckWithinDevice, DeclaredSizeUpToTheDeviceSizeFits) {
  EXPECT_TRUE(CheckWithinDevice(CleanSdb(), kGiB).ok());
  EXPECT_TRUE(CheckWithinDevice(CleanSdb(), kGiB / 2).ok());
}

TEST(CheckWithinDevice, DeclaredSizeBeyondTheDeviceIsRefused) {
  const absl::Status status = CheckWithinDevice(CleanSdb(), kGiB + 512);
  EXPECT_EQ(status.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(status.message(),
            "the declared scratch size of 1073742336 bytes does not fit on /dev/sdb, which holds "
            "1073741824 bytes");
}

}  // namespace
}  // namespace fscanary::guard
