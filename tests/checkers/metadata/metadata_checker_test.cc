// The checker on a temp dir: growth, verification, determinism, scheduling.

#include "checkers/metadata/metadata_checker.h"

#include "checkers/metadata/manifest_codec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/metadata/checker_fixture.h"
#include "tests/checkers/metadata/metadata_test_support.h"

namespace fscanary::metadata {
namespace {

using testing::CountEntries;
using testing::Describe;
using testing::MetadataCheckerTest;
using testing::TestOptions;

TEST_F(MetadataCheckerTest, FreshTreeGrowsEveryKindOfEntryAndVerifiesClean) {
  OpenGrown(1000);
  const testing::EntryCounts counts = CountEntries(checker_->model());
  EXPECT_GE(counts.directories, 20u);
  EXPECT_GE(counts.max_depth, 3);
  EXPECT_GE(counts.small_files, 30u);
  EXPECT_GE(counts.large_files, 10u);
  EXPECT_GE(counts.sparse_files, 3u);
  EXPECT_GE(counts.hard_linked_files, 10u);
  EXPECT_GE(counts.symlinks, 20u);
  EXPECT_GE(counts.dangling_symlinks, 3u);
  EXPECT_GE(counts.with_xattrs, 30u);
  EXPECT_GE(counts.largest_directory, 300u);
  const uint64_t start = io::MonotonicNanos();
  const std::vector<checker::Finding> findings = Verify();
  const double seconds = static_cast<double>(io::MonotonicNanos() - start) / 1e9;
  EXPECT_TRUE(findings.empty()) << Describe(findings);
  const checker::Activity activity = checker_->TakeActivity();
  std::cout << "full verification: " << activity.entries_verified << " entries, "
            << activity.bytes_verified << " bytes in " << seconds << " s ("
            << static_cast<double>(activity.entries_verified) / seconds << " entries/s)\n";
  // Root, every entry; the punched holes were punched, not skipped.
  EXPECT_EQ(activity.entries_verified, checker_->model().paths.size() + 1);
  EXPECT_EQ(checker_->stats().ops_unsupported, 0u);
  EXPECT_EQ(checker_->stats().ops_not_done, 0u) << checker_->stats().last_error;
}

TEST_F(MetadataCheckerTest, ChangesKeepVerifyingClean) {
  OpenGrown(300);
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(checker_->Mutate(100).ok());
    const std::vector<checker::Finding> findings = Verify();
    ASSERT_TRUE(findings.empty()) << "round " << round << Describe(findings);
  }
  EXPECT_EQ(checker_->stats().ops_not_done, 0u) << checker_->stats().last_error;
}

TEST_F(MetadataCheckerTest, ReopenedTreeVerifiesClean) {
  OpenGrown(300);
  const std::string before = EncodeModel(checker_->model());
  checker_.reset();
  auto reopened = MetadataChecker::Open(TestOptions(Root(), State(), 300), nullptr);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  checker_ = *std::move(reopened);
  EXPECT_EQ(EncodeModel(checker_->model()), before);
  const std::vector<checker::Finding> findings = Verify();
  EXPECT_TRUE(findings.empty()) << Describe(findings);
}

TEST_F(MetadataCheckerTest, SameSeedGrowsTheSameTree) {
  auto first = MetadataChecker::Open(TestOptions(base_.Join("a"), base_.Join("sa"), 300), nullptr);
  auto second = MetadataChecker::Open(TestOptions(base_.Join("b"), base_.Join("sb"), 300), nullptr);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->Mutate(600).ok());
  ASSERT_TRUE((*second)->Mutate(600).ok());
  EXPECT_NE((*first)->tree_id(), (*second)->tree_id());
  EXPECT_EQ(EncodeModel((*first)->model()), EncodeModel((*second)->model()));
  MetadataOptions other_seed = TestOptions(base_.Join("c"), base_.Join("sc"), 300);
  other_seed.seed = 0x5eed + 1;
  auto third = MetadataChecker::Open(other_seed, nullptr);
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE((*third)->Mutate(600).ok());
  EXPECT_NE(EncodeModel((*first)->model()), EncodeModel((*third)->model()));
}

TEST_F(MetadataCheckerTest, SeedIsKeptAcrossOpens) {
  MetadataOptions options = TestOptions(Root(), State(), 100);
  options.seed = 0;
  auto first = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(first.ok());
  const uint64_t seed = (*first)->seed();
  EXPECT_NE(seed, 0u);
  first->reset();
  options.seed = 12345;
  auto again = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->seed(), seed);
}

TEST_F(MetadataCheckerTest, DescribesItsTargetAsADirectory) {
  OpenGrown(100);
  const checker::TargetDescription description = checker_->Describe();
  EXPECT_EQ(checker_->name(), "metadata");
  EXPECT_EQ(description.path, Root());
  EXPECT_EQ(description.kind, "directory");
  EXPECT_GT(description.size_bytes, 0u);
  EXPECT_EQ(description.block_size, 0u);
  EXPECT_EQ(description.engine, "");
  EXPECT_EQ(description.target_id, checker_->tree_id());
}

// Step() as the agent drives it: the first walk first, then growth step
// after step, then a round per change interval, a walk per verify interval.
TEST_F(MetadataCheckerTest, StepGrowsThenChangesAndWalksOnSchedule) {
  MetadataOptions options = TestOptions(Root(), State(), 300);
  options.verify_entries_per_step = 100;
  auto opened = MetadataChecker::Open(options, nullptr);
  ASSERT_TRUE(opened.ok());
  MetadataChecker& checker = **opened;
  uint64_t now = 1'000'000'000;
  EXPECT_LE(checker.next_due_ns(), now);
  int steps = 0;
  while (checker.model().paths.size() * 10 < 300 * 9) {
    ASSERT_LE(checker.next_due_ns(), now) << "growth waits for nothing";
    auto findings = checker.Step(now);
    ASSERT_TRUE(findings.ok()) << findings.status();
    ASSERT_TRUE(findings->empty()) << Describe(*findings);
    ASSERT_LT(++steps, 100);
  }
  // Grown: the next round waits for the change interval.
  ASSERT_TRUE(checker.Step(now).ok());
  EXPECT_GT(checker.next_due_ns(), now);
  checker::Activity activity = checker.TakeActivity();
  EXPECT_GT(activity.entries_changed, 200u);
  EXPECT_GT(activity.bytes_written, 0u);
  // A whole verify interval later every entry has been walked, in steps of
  // at most 100 entries.
  const uint64_t later = now + options.verify_interval_ns;
  uint64_t step_now = later;
  uint64_t walked_steps = 0;
  uint64_t passes = 0;
  while (passes == 0) {
    step_now = std::max(step_now, checker.next_due_ns());
    auto findings = checker.Step(step_now);
    ASSERT_TRUE(findings.ok()) << findings.status();
    ASSERT_TRUE(findings->empty()) << Describe(*findings);
    const checker::Activity taken = checker.TakeActivity();
    ASSERT_LE(taken.entries_verified, 100u);
    passes += taken.passes_completed;
    ASSERT_LT(++walked_steps, 1000u);
  }
  EXPECT_GE(walked_steps, 3u);
  EXPECT_LE(step_now, later + options.verify_interval_ns);
}

}  // namespace
}  // namespace fscanary::metadata
