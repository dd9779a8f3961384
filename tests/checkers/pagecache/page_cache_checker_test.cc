// PageCacheChecker on a scratch file in a temp dir (no root): clean rounds,
// the mapped write path, corruption behind the page cache found both ways, and
// the targets it refuses.

#include "checkers/pagecache/page_cache_checker.h"

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/pagecache/test_target.h"
#include "tests/io/descriptor_of.h"
#include "tests/temp_dir.h"

namespace fscanary::pagecache {
namespace {

using testing::CorruptBehindTheCache;
using testing::EveryBlockOptions;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kBlocks;
using testing::kBlockSize;
using testing::kColdReadAt;
using testing::OffsetOf;
using testing::OpenTarget;
using ::testing::SizeIs;

class PageCacheCheckerTest : public ::testing::Test {
 protected:
  std::string TargetPath() const { return dir_.Join("scratch.img"); }

  void Open(const PageCacheOptions& options) {
    ASSERT_OK_AND_ASSIGN(target_, OpenTarget(TargetPath(), dir_.Join("state")));
    ASSERT_OK_AND_ASSIGN(checker_, PageCacheChecker::Create(target_, options, nullptr));
  }

  uint64_t DurableGeneration(uint64_t block) const {
    return target_->writable.state.Get(block).durable_generation;
  }

  fscanary::testing::TempDir dir_;
  std::shared_ptr<blockcheck::SharedTarget> target_;
  std::unique_ptr<PageCacheChecker> checker_;
};

// The shared state file's descriptor writes to /dev/full: the round cannot
// mark its blocks in flight, and says so to the fleet.
TEST_F(PageCacheCheckerTest, AStateFileThatCannotBeWrittenIsAnIoErrorFindingOfTheRound) {
  Open(EveryBlockOptions());
  const std::string state_path = target_->writable.state.path();
  const int state_fd = fscanary::testing::DescriptorOf(state_path);
  ASSERT_GE(state_fd, 0);
  ASSERT_TRUE(fscanary::testing::MakeWritesFail(state_fd));

  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(0));
  ASSERT_THAT(findings, SizeIs(1));
  EXPECT_EQ(findings[0].kind, checker::FindingKind::kIoError);
  ASSERT_TRUE(findings[0].io_failure.has_value());
  EXPECT_EQ(findings[0].io_failure->operation, verify::IoOperation::kStateWrite);
  EXPECT_EQ(findings[0].io_failure->file, state_path);
  EXPECT_EQ(findings[0].io_failure->error_number, ENOSPC);
  EXPECT_GE(checker_->TakeActivity().io_errors, 1u);
}

// The checker's own buffered descriptor writes to /dev/full: the round's
// writes fail, and each reaches the fleet as an io_error of the write.
TEST_F(PageCacheCheckerTest, WritesThatFailAreIoErrorFindingsOfTheRound) {
  Open(EveryBlockOptions());
  // The shared target's descriptor first, then the checker's own.
  const std::vector<int> descriptors = fscanary::testing::DescriptorsOf(TargetPath());
  ASSERT_GE(descriptors.size(), 2u);
  ASSERT_TRUE(fscanary::testing::MakeWritesFail(descriptors.back()));

  absl::StatusOr<std::vector<checker::Finding>> findings = checker_->Step(0);
  ASSERT_TRUE(findings.ok()) << findings.status();
  int failed_writes = 0;
  for (const checker::Finding& finding : *findings) {
    if (!finding.io_failure || finding.io_failure->operation != verify::IoOperation::kWrite) {
      continue;
    }
    ++failed_writes;
    EXPECT_EQ(finding.kind, checker::FindingKind::kIoError);
    EXPECT_EQ(finding.io_failure->error_number, ENOSPC);
    EXPECT_EQ(finding.io_failure->file, TargetPath());
  }
  EXPECT_GE(failed_writes, 1);
  EXPECT_GE(checker_->TakeActivity().io_errors, 1u);
}

TEST_F(PageCacheCheckerTest, CleanRoundAndColdReadFindNothingAndCountEveryBlockOncePerRead) {
  Open(EveryBlockOptions());
  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(0));
  EXPECT_THAT(findings, IsEmpty());

  const checker::Activity activity = checker_->TakeActivity();
  EXPECT_EQ(activity.blocks_written, kBlocks);
  EXPECT_EQ(activity.bytes_written, uint64_t{kBlocks} * kBlockSize);
  // Read back after the round, then cold-read: each block counted once per
  // verification though each is read twice.
  EXPECT_EQ(activity.blocks_verified, 2 * kBlocks);
  EXPECT_EQ(activity.bytes_verified, 2 * uint64_t{kBlocks} * kBlockSize);
  EXPECT_EQ(activity.io_errors, 0u);
  EXPECT_EQ(activity.findings, 0u);
  uint64_t direct_reads = 0;
  for (const uint64_t count : activity.read_latency.counts) direct_reads += count;
  EXPECT_EQ(direct_reads, 2 * kBlocks);
  for (uint64_t block = 0; block < kBlocks; ++block) {
    EXPECT_EQ(DurableGeneration(block), 1u) << "block " << block;
    EXPECT_EQ(target_->writable.state.Get(block).inflight_generation, 0u) << "block " << block;
  }
}

TEST_F(PageCacheCheckerTest, EachRoundWritesANewGenerationAboveEveryOther) {
  Open(EveryBlockOptions());
  ASSERT_OK_AND_ASSIGN(std::vector<checker::Finding> findings, checker_->Step(0));
  EXPECT_THAT(findings, IsEmpty());
  ASSERT_OK_AND_ASSIGN(findings, checker_->Step(EveryBlockOptions().write_interval_ns));
  EXPECT_THAT(findings, IsEmpty());
  for (uint64_t block = 0; block < kBlocks; ++block) {
    EXPECT_EQ(DurableGeneration(block), 2u) << "block " << block;
  }
}

TEST_F(PageCacheCheckerTest, RunsWrittenThroughAMappingAreDurableAndReadBackRight) {
  PageCacheOptions options = EveryBlockOptions();
  options.mmap_every = 1;  // every run through MAP_SHARED + msync
  Open(options);
  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(0));
  EXPECT_THAT(findings, IsEmpty());
  const checker::Activity activity = checker_->TakeActivity();
  EXPECT_EQ(activity.blocks_written, kBlocks);
  EXPECT_EQ(activity.io_errors, 0u);
  for (uint64_t block = 0; block < kBlocks; ++block) {
    EXPECT_EQ(DurableGeneration(block), 1u) << "block " << block;
  }
}

TEST_F(PageCacheCheckerTest, NextStepIsDueAtTheEarlierOfWriteAndColdRead) {
  Open(EveryBlockOptions());
  EXPECT_EQ(checker_->next_due_ns(), 0u);
  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(10));
  EXPECT_EQ(checker_->next_due_ns(), 10 + kColdReadAt);
}

TEST_F(PageCacheCheckerTest, DescribesTheSharedFileTarget) {
  Open(EveryBlockOptions());
  EXPECT_EQ(checker_->name(), "page_cache");
  const checker::TargetDescription description = checker_->Describe();
  EXPECT_EQ(description.path, TargetPath());
  EXPECT_EQ(description.kind, "file");
  EXPECT_EQ(description.block_size, kBlockSize);
  EXPECT_EQ(description.target_id, target_->writable.target.label.target_id);
}

TEST_F(PageCacheCheckerTest, CorruptionOnTheDeviceIsFoundByBothPaths) {
  PageCacheOptions options = EveryBlockOptions();
  options.evidence_dir = dir_.Join("evidence");
  Open(options);
  ASSERT_OK_AND_ASSIGN(std::vector<checker::Finding> findings, checker_->Step(0));
  ASSERT_THAT(findings, IsEmpty());
  checker_->TakeActivity();

  constexpr uint64_t kVictim = 5;
  const uint64_t offset = OffsetOf(*target_, kVictim);
  // Inside sector 1's payload: the sector's checksum fails, its stamp holds.
  ASSERT_OK(CorruptBehindTheCache(TargetPath(), offset, 600, 100));
  ASSERT_OK_AND_ASSIGN(findings, checker_->Step(kColdReadAt));

  ASSERT_THAT(findings, SizeIs(1));
  const checker::Finding& finding = findings[0];
  EXPECT_EQ(finding.kind, checker::FindingKind::kChecksumMismatch);
  EXPECT_TRUE(finding.persistent);
  ASSERT_TRUE(finding.block.has_value());
  EXPECT_EQ(finding.block->offset, offset);
  EXPECT_EQ(finding.block->verdict.kind, block::Kind::kChecksumMismatch);
  EXPECT_EQ(finding.block->expected_generation, DurableGeneration(kVictim));
  EXPECT_FALSE(finding.block->evidence_dir.empty());
  ASSERT_TRUE(finding.buffered.has_value());
  EXPECT_EQ(finding.buffered->kind, block::Kind::kChecksumMismatch);
  EXPECT_EQ(finding.key,
            checker::BlockFindingKey(target_->writable.target.label.target_id, *finding.block,
                                     checker::FindingKind::kChecksumMismatch));
  const checker::Activity activity = checker_->TakeActivity();
  EXPECT_EQ(activity.findings, 1u);
  EXPECT_EQ(activity.blocks_verified, kBlocks);
}

TEST_F(PageCacheCheckerTest, RefusesABlockDeviceTargetNamingIt) {
  Open(EveryBlockOptions());
  // As OpenSharedTarget leaves a device target; the file itself is never
  // touched by the refusal.
  target_->writable.target.is_block_device = true;
  const absl::StatusOr<std::unique_ptr<PageCacheChecker>> refused =
      PageCacheChecker::Create(target_, EveryBlockOptions(), nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr(TargetPath()));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("block device"));
}

// The shared target refuses a path through a link when it opens it
// (tests/checkers/block/target); the page-cache checker's own, buffered descriptor
// must not follow one put there since.
TEST_F(PageCacheCheckerTest, RefusesAPathSwappedForASymlinkAfterTheTargetWasOpened) {
  ASSERT_OK_AND_ASSIGN(target_, OpenTarget(TargetPath(), dir_.Join("state")));
  const std::string moved = dir_.Join("moved.img");
  std::filesystem::rename(TargetPath(), moved);
  std::filesystem::create_symlink(moved, TargetPath());
  const absl::StatusOr<std::unique_ptr<PageCacheChecker>> refused =
      PageCacheChecker::Create(target_, EveryBlockOptions(), nullptr);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr(TargetPath()));
}

}  // namespace
}  // namespace fscanary::pagecache
