// ComparePaths: what the buffered and the O_DIRECT read of one block, compared,
// make the page-cache checker report. Hand-built blocks, no I/O.

#include "checkers/pagecache/compare_paths.h"

#include <cerrno>
#include <vector>

#include "checkers/block/classify/classifier.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/format/block_builder.h"

namespace fscanary::pagecache {
namespace {

using block::testing::BlockStamped;
using block::testing::kBlockSize;
using block::testing::kTarget;
using checker::FindingKind;

constexpr uint64_t kOffset = 8 * kBlockSize;
constexpr uint64_t kGeneration = 7;
constexpr block::Expectation kExpectation{
    .target_id = kTarget, .offset = kOffset, .durable_generation = kGeneration};

std::vector<std::byte> Right() { return BlockStamped(kOffset, kGeneration); }

// The right block with bytes [at, at + 16) of sector 1's payload overwritten.
std::vector<std::byte> Damaged(size_t at, std::byte value = std::byte{0xA5}) {
  std::vector<std::byte> block = Right();
  std::fill_n(block.begin() + 512 + at, 16, value);
  return block;
}

block::Verdict Classified(const std::vector<std::byte>& block) {
  return block::Classify(kExpectation, block);
}

TEST(ComparePaths, BothReadsRightIsNothingToReport) {
  const std::vector<std::byte> block = Right();
  EXPECT_EQ(ComparePaths(Classified(block), block, Classified(block), block), std::nullopt);
}

TEST(ComparePaths, TheSameCorruptionBothWaysIsThatCorruption) {
  const std::vector<std::byte> block = Damaged(100);
  ASSERT_EQ(Classified(block).kind, block::Kind::kChecksumMismatch);
  EXPECT_EQ(ComparePaths(Classified(block), block, Classified(block), block),
            FindingKind::kChecksumMismatch);
}

TEST(ComparePaths, BufferedReadWrongWhereTheDeviceIsRightIsAMismatch) {
  const std::vector<std::byte> cached = Damaged(100);
  const std::vector<std::byte> device = Right();
  EXPECT_EQ(ComparePaths(Classified(cached), cached, Classified(device), device),
            FindingKind::kPageCacheMismatch);
}

TEST(ComparePaths, DeviceWrongWhereTheCacheIsRightIsAMismatch) {
  const std::vector<std::byte> cached = Right();
  const std::vector<std::byte> device = Damaged(100);
  EXPECT_EQ(ComparePaths(Classified(cached), cached, Classified(device), device),
            FindingKind::kPageCacheMismatch);
}

TEST(ComparePaths, DifferentKindsOfCorruptionAreAMismatch) {
  const std::vector<std::byte> cached = BlockStamped(kOffset, kGeneration - 1);  // lost write
  const std::vector<std::byte> device = Damaged(100);
  ASSERT_EQ(Classified(cached).kind, block::Kind::kLostWrite);
  EXPECT_EQ(ComparePaths(Classified(cached), cached, Classified(device), device),
            FindingKind::kPageCacheMismatch);
}

TEST(ComparePaths, TheSameKindOverDifferentBytesIsAMismatch) {
  const std::vector<std::byte> cached = Damaged(100);
  const std::vector<std::byte> device = Damaged(200);
  ASSERT_EQ(Classified(cached).kind, Classified(device).kind);
  EXPECT_EQ(ComparePaths(Classified(cached), cached, Classified(device), device),
            FindingKind::kPageCacheMismatch);
}

TEST(ComparePaths, BothReadsFailingIsAnIoError) {
  const block::Verdict failed = block::ClassifyFailedRead(-EIO);
  EXPECT_EQ(ComparePaths(failed, {}, failed, {}), FindingKind::kIoError);
}

TEST(ComparePaths, AReadFailingOnOnePathOnlyIsAMismatch) {
  const std::vector<std::byte> cached = Right();
  EXPECT_EQ(ComparePaths(Classified(cached), cached, block::ClassifyFailedRead(-EIO), {}),
            FindingKind::kPageCacheMismatch);
}

TEST(ComparePaths, ShortReadsOfDifferentLengthsAreAMismatch) {
  const std::vector<std::byte> block = Right();
  EXPECT_EQ(
      ComparePaths(block::ClassifyFailedRead(1024), block, block::ClassifyFailedRead(1024), block),
      FindingKind::kShortRead);
  EXPECT_EQ(
      ComparePaths(block::ClassifyFailedRead(1024), block, block::ClassifyFailedRead(512), block),
      FindingKind::kPageCacheMismatch);
}

}  // namespace
}  // namespace fscanary::pagecache
