// Taking a target over: refused by the daemon's open until done, done once by
// the command (what it found, what it would do), then the target is
// fscanary's. Files everywhere; loop devices as root (skipped elsewhere).

#include "checkers/block/target/take_over.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "checkers/block/guard/device_inspection.h"
#include "checkers/block/target/scratch_target.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/system_fixtures.h"
#include "tests/checkers/block/target/target_test_support.h"
#include "tests/status_assertions.h"

namespace fscanary::target {
namespace {

namespace fs = std::filesystem;
using guard::testing::FindTool;
using guard::testing::LoopDevice;
using guard::testing::RunTool;
using guard::testing::TempDir;
using testing::AllZero;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::PutBytes;

constexpr uint64_t kMiB = uint64_t{1} << 20;

class TakeOverTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return (dir_.path() / name).string(); }
  std::string StateDir() const { return Path("state"); }

  // Plans and carries out a take-over; returns what the plan said.
  std::string TakeOver(const std::string& path, std::optional<uint64_t> size = std::nullopt) {
    absl::StatusOr<TakeOverPlan> plan =
        PlanTakeOver({.path = path, .state_dir = StateDir(), .size = size});
    EXPECT_TRUE(plan.ok()) << plan.status();
    if (!plan.ok()) return "";
    const std::string said = DescribeTakeOver(*plan, StateDir());
    const absl::Status done = CarryOutTakeOver(*plan, StateDir());
    EXPECT_TRUE(done.ok()) << done;
    return said;
  }

  TempDir dir_;
};

TEST_F(TakeOverTest, AForeignFileIsOnlyUsedOnceTakenOver) {
  PutBytes(Path("data"), 0, std::string(3 * kMiB, 'x'));
  EXPECT_EQ(OpenForWrite({.path = Path("data"), .state_dir = StateDir()}).status().code(),
            absl::StatusCode::kFailedPrecondition);

  const std::string said = TakeOver(Path("data"), 2 * kMiB);
  EXPECT_THAT(said, HasSubstr("found: no fscanary label"));
  EXPECT_THAT(said, HasSubstr("will: empty the file and allocate 2097152 bytes"));

  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = Path("data"), .state_dir = StateDir()}));
  EXPECT_EQ(opened.target.label.declared_size, 2 * kMiB);
  EXPECT_EQ(fs::file_size(Path("data")), 2 * kMiB);
  EXPECT_TRUE(AllZero(Path("data"), 4096, 2 * kMiB - 4096));
}

TEST_F(TakeOverTest, APlanWritesNothing) {
  PutBytes(Path("data"), 0, std::string(kMiB, 'x'));
  ASSERT_OK_AND_ASSIGN(const TakeOverPlan plan,
                       PlanTakeOver({.path = Path("data"), .state_dir = StateDir()}));
  EXPECT_FALSE(plan.nothing_to_do);
  const std::vector<std::byte> bytes = testing::GetBytes(Path("data"), 0, kMiB);
  EXPECT_TRUE(
      std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{'x'}; }));
  EXPECT_FALSE(fs::exists(StateDir()));
}

TEST_F(TakeOverTest, TakingOverAgainWhatIsAlreadyFscanarysDoesNothing) {
  PutBytes(Path("data"), 0, std::string(kMiB, 'x'));
  TakeOver(Path("data"));
  uint64_t id = 0;
  {
    ASSERT_OK_AND_ASSIGN(const WritableTarget first,
                         OpenForWrite({.path = Path("data"), .state_dir = StateDir()}));
    id = first.target.label.target_id;
  }

  {
    ASSERT_OK_AND_ASSIGN(TakeOverPlan again,
                         PlanTakeOver({.path = Path("data"), .state_dir = StateDir()}));
    EXPECT_TRUE(again.nothing_to_do);
    EXPECT_THAT(DescribeTakeOver(again, StateDir()), HasSubstr("nothing to do"));
    ASSERT_OK(CarryOutTakeOver(again, StateDir()));
  }
  ASSERT_OK_AND_ASSIGN(const WritableTarget second,
                       OpenForWrite({.path = Path("data"), .state_dir = StateDir()}));
  EXPECT_EQ(second.target.label.target_id, id);
}

TEST_F(TakeOverTest, ATargetARunningAgentHoldsIsNotTakenOver) {
  ASSERT_OK_AND_ASSIGN(const WritableTarget running,
                       OpenForWrite({.path = Path("data"), .state_dir = StateDir(), .size = kMiB}));
  const absl::Status status =
      PlanTakeOver({.path = Path("data"), .state_dir = StateDir(), .block_size = 8192}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
}

TEST_F(TakeOverTest, AMissingFileNeedsNone) {
  EXPECT_EQ(PlanTakeOver({.path = Path("none"), .state_dir = StateDir()}).status().code(),
            absl::StatusCode::kNotFound);
}

class TakeOverDevice : public TakeOverTest {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to set up loop devices";
    if (!fs::exists("/dev/loop-control")) GTEST_SKIP() << "the kernel has no loop device support";
    if (!FindTool("losetup")) GTEST_SKIP() << "losetup is not installed";
  }

  // A sparse image, prepared by `prepare` before a loop device is put on it.
  std::string Image(uint64_t bytes) {
    const std::string image = Path("image");
    std::ofstream(image).close();
    fs::resize_file(image, bytes);
    return image;
  }
  LoopDevice Attach(const std::string& image) {
    absl::StatusOr<LoopDevice> loop = LoopDevice::Attach(image, {});
    if (!loop.ok()) ADD_FAILURE() << loop.status();
    return *std::move(loop);
  }
};

TEST_F(TakeOverDevice, AnUnlabelledDeviceIsRefusedNamingTheCommandUntilTakenOver) {
  LoopDevice loop = Attach(Image(16 * kMiB));

  const absl::Status refused =
      OpenForWrite({.path = loop.path(), .state_dir = StateDir()}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused;
  EXPECT_THAT(std::string(refused.message()), HasSubstr("carries no fscanary label"));
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("fscanary-agent take-over --target " + loop.path()));
  EXPECT_TRUE(AllZero(loop.path(), 0, 16 * kMiB));

  const std::string said = TakeOver(loop.path());
  EXPECT_THAT(said, HasSubstr("block device of 16777216 bytes"));
  EXPECT_THAT(said, HasSubstr("will: label it fscanary target"));

  ASSERT_OK_AND_ASSIGN(const WritableTarget opened,
                       OpenForWrite({.path = loop.path(), .state_dir = StateDir()}));
  EXPECT_TRUE(opened.target.is_block_device);
  EXPECT_EQ(opened.target.label.declared_size, 16 * kMiB);
}

TEST_F(TakeOverDevice, AnExt4FilesystemIsErasedAndTheDeviceLabelled) {
  if (!FindTool("mkfs.ext4")) GTEST_SKIP() << "mkfs.ext4 is not installed";
  LoopDevice loop = Attach(Image(32 * kMiB));
  ASSERT_OK(RunTool({"mkfs.ext4", "-q", "-F", loop.path()}));

  const std::string said = TakeOver(loop.path());
  EXPECT_THAT(said, HasSubstr("found: an ext4 filesystem"));
  EXPECT_THAT(said, HasSubstr("will: erase 2 bytes at byte 1080 (the ext4 magic)"));

  ASSERT_OK_AND_ASSIGN(const guard::DeviceInspection after, guard::InspectBlockDevice(loop.path()));
  EXPECT_THAT(after.signatures, IsEmpty());
  ASSERT_OK(OpenForWrite({.path = loop.path(), .state_dir = StateDir()}).status());
}

TEST_F(TakeOverDevice, AnOldLabelOnADeviceNowCarryingLvmIsRefused) {
  const std::string image = Image(8 * kMiB);
  testing::MakeVersion1Target(image, 8 * kMiB, StateDir());
  testing::PutLvmLabel(image);
  LoopDevice loop = Attach(image);

  const absl::Status refused =
      OpenForWrite({.path = loop.path(), .state_dir = StateDir()}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("a LVM2_member signature"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("magic at byte 512"));
}

TEST_F(TakeOverDevice, AnOldLabelOnADeviceFormattedExt4SinceIsRefused) {
  if (!FindTool("mkfs.ext4")) GTEST_SKIP() << "mkfs.ext4 is not installed";
  const std::string image = Image(8 * kMiB);
  testing::MakeVersion1Target(image, 8 * kMiB, StateDir());
  LoopDevice loop = Attach(image);
  // The label is accepted while the device is clean...
  { ASSERT_OK(OpenForWrite({.path = loop.path(), .state_dir = StateDir()}).status()); }
  // ...and refused once someone made a filesystem there, and the old label's
  // fields are still in sector 0 (mke2fs zeroes it; a tool that keeps the
  // boot sector, as LVM and many partitioners do, would leave them).
  ASSERT_OK(RunTool({"mkfs.ext4", "-q", "-F", loop.path()}));
  const std::vector<std::byte> label = testing::GoldenV1Label();
  PutBytes(loop.path(), 0, std::string_view(reinterpret_cast<const char*>(label.data()), 56));
  ASSERT_EQ(ParseLabel(testing::GetBytes(loop.path(), 0, 4096)).version, 1u);

  const absl::Status refused =
      OpenForWrite({.path = loop.path(), .state_dir = StateDir()}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("an ext4 filesystem"));
  EXPECT_EQ(OpenForVerify(loop.path(), StateDir()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fscanary::target
