#include "checkers/checker/finding.h"

#include "checkers/checker/checker.h"
#include "gtest/gtest.h"

namespace fscanary::checker {
namespace {

TEST(FindingKind, BlockKindsKeepTheirNumbersAndNames) {
  EXPECT_EQ(FromBlockKind(block::Kind::kLostWrite), FindingKind::kLostWrite);
  EXPECT_EQ(FromBlockKind(block::Kind::kShortRead), FindingKind::kShortRead);
  EXPECT_EQ(FindingKindName(FindingKind::kTornWrite), "torn_write");
  EXPECT_EQ(FindingKindName(FindingKind::kPageCacheMismatch), "page_cache_mismatch");
  EXPECT_EQ(FindingKindName(FindingKind::kMetadataMismatch), "metadata_mismatch");
  EXPECT_EQ(FindingKindName(FindingKind::kKernelReported), "kernel_reported");
}

TEST(FromBlockFinding, KeysTheFindingByTargetOffsetGenerationAndKind) {
  verify::Finding block;
  block.offset = 8192;
  block.expected_generation = 41;
  block.persistent = true;
  block.verdict.kind = block::Kind::kZeroed;
  const Finding finding = FromBlockFinding(0xabc, block);
  EXPECT_EQ(finding.kind, FindingKind::kZeroed);
  EXPECT_TRUE(finding.persistent);
  EXPECT_EQ(finding.key,
            (FindingKey{.target_id = 0xabc, .offset = 8192, .expected_generation = 41, .kind = 5}));
}

TEST(FromBlockFinding, ATornAndALostWriteOfOneGenerationAreOneFinding) {
  // A block left torn (some sectors of generation 41, the rest older) shows
  // only older sectors once a write in flight at a power cut covered the
  // sectors of 41: the same write of 41 that did not persist whole.
  verify::Finding torn;
  torn.offset = 8192;
  torn.expected_generation = 41;
  torn.verdict.kind = block::Kind::kTornWrite;
  verify::Finding lost = torn;
  lost.verdict.kind = block::Kind::kLostWrite;
  EXPECT_EQ(FromBlockFinding(0xabc, torn).key, FromBlockFinding(0xabc, lost).key);
  EXPECT_EQ(FromBlockFinding(0xabc, torn).kind, FindingKind::kTornWrite) << "reported as found";
  verify::Finding next_write = lost;
  next_write.expected_generation = 42;
  EXPECT_NE(FromBlockFinding(0xabc, next_write).key, FromBlockFinding(0xabc, lost).key);
}

TEST(Activity, MergeAddsEveryCounter) {
  Activity total{.blocks_written = 1, .entries_changed = 2, .passes_completed = 1};
  total.Merge({.blocks_written = 3, .entries_changed = 4, .findings = 1});
  EXPECT_EQ(total.blocks_written, 4u);
  EXPECT_EQ(total.entries_changed, 6u);
  EXPECT_EQ(total.findings, 1u);
  EXPECT_EQ(total.passes_completed, 1u);
}

}  // namespace
}  // namespace fscanary::checker
