#include "checkers/block/verify/pattern.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace fscanary::verify {
namespace {

std::vector<uint64_t> BlocksOf(const std::vector<verify::Run>& runs) {
  std::vector<uint64_t> blocks;
  for (const verify::Run& run : runs) {
    for (uint64_t b = run.first_block; b < run.first_block + run.count; ++b) blocks.push_back(b);
  }
  return blocks;
}

TEST(PlanRuns, EveryPatternCoversEveryBlockExactlyOnce) {
  for (const Pattern pattern : {Pattern::kSequential, Pattern::kRandom, Pattern::kMerge}) {
    std::vector<uint64_t> blocks = BlocksOf(PlanRuns(1003, pattern, 8, /*seed=*/42));
    std::sort(blocks.begin(), blocks.end());
    ASSERT_EQ(blocks.size(), 1003u) << PatternName(pattern);
    for (uint64_t i = 0; i < blocks.size(); ++i) EXPECT_EQ(blocks[i], i);
  }
}

TEST(PlanRuns, SequentialRunsAreAdjacentAndInOrder) {
  EXPECT_EQ(PlanRuns(20, Pattern::kSequential, 8, 0),
            (std::vector<verify::Run>{{0, 8}, {8, 8}, {16, 4}}));
}

TEST(PlanRuns, RandomVisitsSingleBlocksOutOfOrder) {
  const std::vector<verify::Run> runs = PlanRuns(1000, Pattern::kRandom, 8, 7);
  EXPECT_TRUE(
      std::all_of(runs.begin(), runs.end(), [](const verify::Run& r) { return r.count == 1; }));
  EXPECT_FALSE(std::is_sorted(
      runs.begin(), runs.end(),
      [](const verify::Run& a, const verify::Run& b) { return a.first_block < b.first_block; }));
}

TEST(PlanRuns, MergeKeepsRunsWholeButShufflesThem) {
  const std::vector<verify::Run> runs = PlanRuns(800, Pattern::kMerge, 16, 7);
  EXPECT_EQ(runs.size(), 50u);
  std::set<uint64_t> firsts;
  for (const verify::Run& run : runs) {
    EXPECT_EQ(run.count, 16u);
    EXPECT_EQ(run.first_block % 16, 0u);
    firsts.insert(run.first_block);
  }
  EXPECT_EQ(firsts.size(), 50u);
  EXPECT_NE(runs.front().first_block, 0u);
}

TEST(PlanRuns, SameSeedSameOrder) {
  EXPECT_EQ(PlanRuns(500, Pattern::kMerge, 4, 9), PlanRuns(500, Pattern::kMerge, 4, 9));
  EXPECT_NE(PlanRuns(500, Pattern::kMerge, 4, 9), PlanRuns(500, Pattern::kMerge, 4, 10));
}

TEST(ParsePattern, RejectsUnknownNamesByName) {
  EXPECT_EQ(ParsePattern("merge").value(), Pattern::kMerge);
  const absl::Status status = ParsePattern("zigzag").status();
  EXPECT_NE(std::string(status.message()).find("zigzag"), std::string::npos);
}

}  // namespace
}  // namespace fscanary::verify
