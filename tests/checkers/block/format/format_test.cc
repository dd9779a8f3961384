#include "checkers/block/format/format.h"

#include "common/endian.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/format/block_builder.h"

namespace fscanary::block {
namespace {

using testing::BlockStamped;
using testing::kBlockSize;
using testing::kTarget;
using testing::kWriteTime;

TEST(BlockSize, MultiplesOf512UpTo1MiBAreValid) {
  EXPECT_TRUE(ValidateBlockSize(512).ok());
  EXPECT_TRUE(ValidateBlockSize(4096).ok());
  EXPECT_TRUE(ValidateBlockSize(1 << 20).ok());
  EXPECT_FALSE(ValidateBlockSize(0).ok());
  EXPECT_FALSE(ValidateBlockSize(1000).ok());
  EXPECT_FALSE(ValidateBlockSize((1 << 20) + 512).ok());
}

TEST(EncodeBlock, HeaderStatesIdentityAtDocumentedOffsets) {
  const auto block = BlockStamped(/*offset=*/5 * kBlockSize, /*generation=*/7);
  EXPECT_EQ(LoadLe<uint64_t>(block.data() + kHeaderMagicOffset), kBlockMagic);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(block.data() + kHeaderMagicOffset), 8),
            "FSCANARY");
  EXPECT_EQ(LoadLe<uint32_t>(block.data() + kHeaderBlockSizeOffset), kBlockSize);
  EXPECT_EQ(LoadLe<uint64_t>(block.data() + kHeaderTargetIdOffset), kTarget);
  EXPECT_EQ(LoadLe<uint64_t>(block.data() + kHeaderBlockOffsetOffset), 5 * kBlockSize);
  EXPECT_EQ(LoadLe<uint64_t>(block.data() + kHeaderGenerationOffset), 7u);
  EXPECT_EQ(LoadLe<uint64_t>(block.data() + kHeaderWriteTimeOffset), kWriteTime);
}

TEST(EncodeBlock, EverySectorCarriesAValidStamp) {
  const auto block = BlockStamped(3 * kBlockSize, 9);
  for (uint32_t i = 0; i < kBlockSize / kSectorSize; ++i) {
    const SectorReading reading =
        ReadSector(std::span(block).subspan(size_t{i} * kSectorSize, kSectorSize));
    EXPECT_TRUE(reading.magic_ok);
    EXPECT_TRUE(reading.checksum_ok);
    EXPECT_EQ(reading.stamp.index, i);
    EXPECT_EQ(reading.stamp.block_offset, 3 * kBlockSize);
    EXPECT_EQ(reading.stamp.generation, 9u);
    EXPECT_EQ(reading.stamp.target_tag, TargetTag(kTarget));
  }
}

TEST(EncodeBlock, PayloadIsDeterministicInTargetOffsetAndGeneration) {
  EXPECT_EQ(BlockStamped(4096, 3), BlockStamped(4096, 3));
  EXPECT_NE(BlockStamped(4096, 3), BlockStamped(4096, 4));
  EXPECT_NE(BlockStamped(4096, 3), BlockStamped(8192, 3));
  EXPECT_NE(BlockStamped(4096, 3), BlockStamped(4096, 3, testing::kOtherTarget));
}

TEST(ParseIntactBlock, AcceptsAnEncodedBlockOfEverySize) {
  for (uint32_t size : {512u, 4096u, 65536u, 1u << 20}) {
    std::vector<std::byte> block(size);
    EncodeBlock({.target_id = kTarget, .offset = 0, .generation = 1}, kWriteTime, block);
    const auto intact = ParseIntactBlock(block);
    ASSERT_TRUE(intact.has_value()) << size;
    EXPECT_EQ(intact->identity.generation, 1u);
  }
}

TEST(ParseIntactBlock, RejectsAnyFlippedBit) {
  const auto pristine = BlockStamped(0, 1);
  for (size_t byte : {size_t{0}, size_t{29}, size_t{85}, size_t{700}, size_t{kBlockSize - 1}}) {
    auto block = pristine;
    block[byte] ^= std::byte{0x10};
    EXPECT_FALSE(ParseIntactBlock(block).has_value()) << "byte " << byte;
  }
}

TEST(ReadSector, FlippedPayloadBitFailsOnlyThatSectorsChecksum) {
  auto block = BlockStamped(0, 1);
  block[3 * kSectorSize + 200] ^= std::byte{1};
  EXPECT_FALSE(ReadSector(std::span(block).subspan(3 * kSectorSize, kSectorSize)).checksum_ok);
  EXPECT_TRUE(ReadSector(std::span(block).subspan(2 * kSectorSize, kSectorSize)).checksum_ok);
}

}  // namespace
}  // namespace fscanary::block
