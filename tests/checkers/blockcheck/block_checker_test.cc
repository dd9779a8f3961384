#include "checkers/blockcheck/block_checker.h"

#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <vector>

#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace fscanary::blockcheck {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

class BlockCheckerTest : public ::testing::Test {
 protected:
  std::shared_ptr<SharedTarget> Open() {
    auto opened = OpenSharedTarget({.name = "scratch",
                                    .target = {.path = dir_.Join("target.img"),
                                               .state_dir = dir_.Join("state"),
                                               .size = uint64_t{4096} + 64 * 4096}});
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *opened : nullptr;
  }
  // Everything due at once, each step at a time far apart.
  static BlockCheckerOptions AllDue() {
    return {.write_interval_ns = kSecond,
            .cold_read_interval_ns = kSecond,
            .scrub_interval_ns = kSecond,
            .write_blocks = 64,
            .cold_read_blocks = 64};
  }
  fscanary::testing::TempDir dir_;
};

TEST(RandomRuns, PicksEachBlockAtMostOnceInRunsOfTheGivenLength) {
  std::mt19937_64 random(7);
  const std::vector<verify::Run> runs = RandomRuns(1000, 96, 8, random);
  std::set<uint64_t> blocks;
  for (const verify::Run& run : runs) {
    EXPECT_EQ(run.first_block % 8, 0u);
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      EXPECT_TRUE(blocks.insert(block).second) << "block " << block << " twice";
    }
  }
  EXPECT_EQ(blocks.size(), 96u);
}

TEST(RandomRuns, NeverAsksForMoreBlocksThanTheTargetHas) {
  std::mt19937_64 random(7);
  uint64_t total = 0;
  for (const verify::Run& run : RandomRuns(5, 64, 8, random)) total += run.count;
  EXPECT_EQ(total, 5u);
}

TEST_F(BlockCheckerTest, ACleanTargetYieldsNoFindingAndCountsItsWork) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, AllDue(), nullptr);
  auto findings = checker.Step(0);
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_TRUE(findings->empty());
  const checker::Activity activity = checker.TakeActivity();
  EXPECT_EQ(activity.blocks_written, 64u);
  // The read-back, the cold read and the whole-target scrub step.
  EXPECT_EQ(activity.blocks_verified, 3u * 64);
  EXPECT_EQ(activity.passes_completed, 1u);
  EXPECT_EQ(checker.next_due_ns(), kSecond);
  EXPECT_EQ(checker.Describe().kind, "file");
  EXPECT_EQ(checker.Describe().target_id, target->writable.target.label.target_id);
}

TEST_F(BlockCheckerTest, ACorruptedBlockIsAFindingKeyedByTargetOffsetAndGeneration) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  // Written once, then only read: the next write round would overwrite the damage.
  BlockCheckerOptions options = AllDue();
  options.write_interval_ns = 100 * kSecond;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  // Behind the checker's back: 16 bytes in the middle of block 5 (offsets
  // count from the start of the target, label included).
  const uint64_t offset = target->writable.target.label.data_start + 5 * 4096;
  const int fd = ::open(dir_.Join("target.img").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const char garbage[16] = "not fscanary's";
  ASSERT_EQ(::pwrite(fd, garbage, sizeof(garbage), static_cast<off_t>(offset + 1000)), 16);
  ::close(fd);

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_FALSE(findings->empty());
  bool found = false;
  for (const checker::Finding& finding : *findings) {
    ASSERT_TRUE(finding.block.has_value());
    if (finding.block->offset != offset) continue;
    found = true;
    EXPECT_EQ(finding.kind, checker::FindingKind::kChecksumMismatch);
    EXPECT_TRUE(finding.persistent);
    EXPECT_EQ(finding.key.target_id, target->writable.target.label.target_id);
    EXPECT_EQ(finding.key.offset, offset);
    EXPECT_EQ(finding.key.expected_generation, finding.block->expected_generation);
    EXPECT_EQ(finding.key.kind, static_cast<uint32_t>(checker::FindingKind::kChecksumMismatch));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace fscanary::blockcheck
