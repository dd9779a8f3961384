// The page-cache checker on a real filesystem (ext4, XFS, btrfs) on a loop
// device, with corruption written into the image behind the filesystem. Root
// only; each skips, with the reason, where the filesystem cannot be made.

#include <iterator>
#include <string>
#include <vector>

#include "checkers/block/format/format.h"
#include "checkers/pagecache/page_cache_checker.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/guard/scratch_filesystem.h"
#include "tests/checkers/pagecache/test_target.h"
#include "tests/temp_dir.h"

namespace fscanary::pagecache {
namespace {

using guard::testing::kScratchFilesystemTypes;
using guard::testing::ScratchFilesystem;
using guard::testing::ScratchFilesystemUnavailableReason;
using testing::EveryBlockOptions;
using ::testing::IsEmpty;
using testing::kBlockSize;
using testing::kColdReadAt;
using testing::OffsetOf;
using testing::OpenTarget;
using ::testing::SizeIs;

constexpr uint64_t kVictim = 21;

class PageCacheOnFilesystem : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (const std::string reason = ScratchFilesystemUnavailableReason(GetParam());
        !reason.empty()) {
      GTEST_SKIP() << reason;
    }
    ASSERT_OK_AND_ASSIGN(filesystem_, ScratchFilesystem::Make(GetParam()));
    target_path_ = (filesystem_->mount_point() / "scratch.img").string();
    ASSERT_OK_AND_ASSIGN(target_, OpenTarget(target_path_, state_dir_.Join("state")));
    PageCacheOptions options = EveryBlockOptions();
    options.mmap_every = 2;
    ASSERT_OK_AND_ASSIGN(checker_, PageCacheChecker::Create(target_, options, nullptr));
    // Every block written through this filesystem's page cache and read back.
    ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(0));
    ASSERT_THAT(findings, IsEmpty());
    ASSERT_EQ(checker_->TakeActivity().blocks_written, testing::kBlocks);
  }

  // The kind a read of a block corrupted behind the filesystem gives: btrfs
  // checksums its data and fails the read; ext4 and XFS return the bytes.
  block::Kind CorruptedReadKind() const {
    return GetParam() == "btrfs" ? block::Kind::kIoError : block::Kind::kChecksumMismatch;
  }

  // Overwrites part of sector 1 of block `block`, as last written, in the
  // image. Matched by its sector stamp, not a whole block: ext4 on a small
  // image has 1 KiB blocks, so a 4 KiB block need not be 4 KiB-aligned there;
  // and by generation, since btrfs leaves older copies where it wrote before.
  absl::Status CorruptInImage(uint64_t block) {
    const uint64_t offset = OffsetOf(*target_, block);
    const uint64_t generation = target_->writable.state.Get(block).durable_generation;
    const uint32_t tag = block::TargetTag(target_->writable.target.label.target_id);
    auto is_sector_1 = [&](std::span<const std::byte> sector) {
      const block::SectorReading reading = block::ReadSector(sector);
      return reading.magic_ok && reading.checksum_ok && reading.stamp.index == 1 &&
             reading.stamp.block_offset == offset && reading.stamp.generation == generation &&
             reading.stamp.target_tag == tag;
    };
    // Payload bytes only (the stamp is the first 32): the sector stays
    // recognisably this block's, its checksum fails.
    return filesystem_->CorruptImage(is_sector_1, block::kSectorSize, 100, 100).status();
  }

  fscanary::testing::TempDir state_dir_;
  // Declared before the target and checker: unmounted after they are closed.
  std::unique_ptr<ScratchFilesystem> filesystem_;
  std::string target_path_;
  std::shared_ptr<blockcheck::SharedTarget> target_;
  std::unique_ptr<PageCacheChecker> checker_;
};

TEST_P(PageCacheOnFilesystem, ColdReadFindsCorruptionBehindTheFilesystemBothWays) {
  ASSERT_OK(CorruptInImage(kVictim));
  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(kColdReadAt));

  ASSERT_THAT(findings, SizeIs(1));
  const checker::Finding& finding = findings[0];
  EXPECT_EQ(finding.kind, checker::FromBlockKind(CorruptedReadKind()));
  EXPECT_TRUE(finding.persistent);
  ASSERT_TRUE(finding.block.has_value());
  EXPECT_EQ(finding.block->offset, OffsetOf(*target_, kVictim));
  ASSERT_TRUE(finding.buffered.has_value());
  EXPECT_EQ(finding.buffered->kind, CorruptedReadKind());
}

TEST_P(PageCacheOnFilesystem, PageKeptCachedOverACorruptDeviceBlockIsAPageCacheMismatch) {
  // Mapped and touched here, the block's cached page (read back right by the
  // round above) cannot be dropped by the checker's DONTNEED.
  ASSERT_OK_AND_ASSIGN(io::UniqueFd fd, io::Open(target_path_, O_RDWR));
  ASSERT_OK_AND_ASSIGN(
      io::SharedMapping mapping,
      io::SharedMapping::Map(fd.get(), OffsetOf(*target_, kVictim), kBlockSize, target_path_));
  ASSERT_TRUE(block::ParseIntactBlock(mapping.bytes()).has_value());

  ASSERT_OK(CorruptInImage(kVictim));
  ASSERT_OK_AND_ASSIGN(const std::vector<checker::Finding> findings, checker_->Step(kColdReadAt));

  ASSERT_THAT(findings, SizeIs(1));
  const checker::Finding& finding = findings[0];
  EXPECT_EQ(finding.kind, checker::FindingKind::kPageCacheMismatch);
  EXPECT_TRUE(finding.persistent);
  ASSERT_TRUE(finding.buffered.has_value());
  EXPECT_EQ(finding.buffered->kind, block::Kind::kOk);
  ASSERT_TRUE(finding.block.has_value());
  EXPECT_EQ(finding.block->offset, OffsetOf(*target_, kVictim));
  EXPECT_EQ(finding.block->verdict.kind, CorruptedReadKind());
  EXPECT_EQ(finding.key.kind, static_cast<uint32_t>(checker::FindingKind::kPageCacheMismatch));
  // The page is still the one the checker wrote.
  EXPECT_TRUE(block::ParseIntactBlock(mapping.bytes()).has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Filesystems, PageCacheOnFilesystem,
    ::testing::ValuesIn(std::vector<std::string>(std::begin(kScratchFilesystemTypes),
                                                 std::end(kScratchFilesystemTypes))),
    [](const ::testing::TestParamInfo<std::string>& param) { return param.param; });

}  // namespace
}  // namespace fscanary::pagecache
