#include "checkers/block/classify/classifier.h"

#include <cerrno>

#include "checkers/block/format/format.h"
#include "gtest/gtest.h"
#include "tests/checkers/block/format/block_builder.h"

namespace fscanary::block {
namespace {

using testing::BlockStamped;
using testing::kBlockSize;
using testing::kOtherTarget;
using testing::kSectors;
using testing::kTarget;
using testing::WithSector;

constexpr uint64_t kOffset = 3 * kBlockSize;

Expectation Durable(uint64_t generation, uint64_t inflight = 0) {
  return {.target_id = kTarget,
          .offset = kOffset,
          .durable_generation = generation,
          .inflight_generation = inflight};
}

std::vector<SectorState> Repeat(SectorState state) {
  return std::vector<SectorState>(kSectors, state);
}

// --- clean cases ---

TEST(Classify, DurableBlockIsOk) {
  const Verdict verdict = Classify(Durable(7), BlockStamped(kOffset, 7));
  EXPECT_EQ(verdict.kind, Kind::kOk);
  EXPECT_FALSE(verdict.newer_than_state);
}

TEST(Classify, NeverWrittenBlockIsNeverReported) {
  std::vector<std::byte> garbage(kBlockSize, std::byte{0xAB});
  EXPECT_EQ(Classify(Durable(0, /*inflight=*/1), garbage).kind, Kind::kOk);
  EXPECT_EQ(Classify(Durable(0, 1), std::vector<std::byte>(kBlockSize)).kind, Kind::kOk);
}

// --- writes in flight at a crash: never reported ---

TEST(InFlight, OldContentStillThereIsOk) {
  EXPECT_EQ(Classify(Durable(7, 8), BlockStamped(kOffset, 7)).kind, Kind::kOk);
}

TEST(InFlight, NewContentThatLandedIsOk) {
  EXPECT_EQ(Classify(Durable(7, 8), BlockStamped(kOffset, 8)).kind, Kind::kOk);
}

TEST(InFlight, SectorsOfBothGenerationsAreOk) {
  auto block = BlockStamped(kOffset, 7);
  const auto landed = BlockStamped(kOffset, 8);
  for (uint32_t i = 0; i < kSectors; i += 2) block = WithSector(block, landed, i);
  EXPECT_EQ(Classify(Durable(7, 8), block).kind, Kind::kOk);
}

TEST(InFlight, AnEarlierCrashedWriteStillPresentIsOkButNoted) {
  // Generation 8 was in flight at one crash; a later attempt at 9 was in flight
  // at the next one and did not land either.
  const Verdict verdict = Classify(Durable(7, 9), BlockStamped(kOffset, 8));
  EXPECT_EQ(verdict.kind, Kind::kOk);
  EXPECT_TRUE(verdict.newer_than_state);
}

TEST(InFlight, ZeroedDurableBlockIsStillReported) {
  EXPECT_EQ(Classify(Durable(7, 8), std::vector<std::byte>(kBlockSize)).kind, Kind::kZeroed);
}

TEST(InFlight, OlderThanDurableIsStillALostWrite) {
  EXPECT_EQ(Classify(Durable(7, 8), BlockStamped(kOffset, 6)).kind, Kind::kLostWrite);
}

// --- checksum mismatch ---

TEST(ChecksumMismatch, FlippedBitIsReportedWithItsByteRange) {
  auto block = BlockStamped(kOffset, 7);
  block[1000] ^= std::byte{0x04};
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kChecksumMismatch);
  ASSERT_EQ(verdict.differing_bytes.size(), 1u);
  EXPECT_EQ(verdict.differing_bytes[0], (ByteRange{1000, 1001}));
  EXPECT_EQ(verdict.sectors[1000 / kSectorSize], SectorState::kDamaged);
  EXPECT_EQ(verdict.sectors[0], SectorState::kNew);
}

TEST(ChecksumMismatch, DamageToTheBlockChecksumFieldAloneIsFound) {
  auto block = BlockStamped(kOffset, 7);
  block[kHeaderChecksumOffset + 2] ^= std::byte{0xFF};
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kChecksumMismatch);
  ASSERT_EQ(verdict.differing_bytes.size(), 1u);
  EXPECT_EQ(verdict.differing_bytes[0].begin, kHeaderChecksumOffset + 2);
}

TEST(ChecksumMismatch, ScatteredDamageListsEveryRange) {
  auto block = BlockStamped(kOffset, 7);
  block[600] ^= std::byte{1};
  block[601] ^= std::byte{1};
  block[3000] ^= std::byte{1};
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kChecksumMismatch);
  EXPECT_EQ(verdict.differing_bytes, (std::vector<ByteRange>{{600, 602}, {3000, 3001}}));
}

// --- misdirected ---

TEST(MisdirectedWrite, BlockCarryingAnotherOffsetIsReportedWithThatOffset) {
  const Verdict verdict = Classify(Durable(7), BlockStamped(5 * kBlockSize, 7));
  EXPECT_EQ(verdict.kind, Kind::kMisdirectedWrite);
  EXPECT_EQ(verdict.found_offset, 5 * kBlockSize);
  EXPECT_FALSE(verdict.found_target_id.has_value());
}

TEST(MisdirectedWrite, BlockOfAnotherTargetNamesThatTarget) {
  const Verdict verdict = Classify(Durable(7), BlockStamped(kOffset, 7, kOtherTarget));
  EXPECT_EQ(verdict.kind, Kind::kMisdirectedWrite);
  EXPECT_EQ(verdict.found_target_id, kOtherTarget);
  EXPECT_EQ(verdict.found_offset, kOffset);
}

// --- lost write ---

TEST(LostWrite, OlderGenerationAtRightOffsetIsReported) {
  const Verdict verdict = Classify(Durable(7), BlockStamped(kOffset, 5));
  EXPECT_EQ(verdict.kind, Kind::kLostWrite);
  EXPECT_EQ(verdict.found_generation, 5u);
}

TEST(LostWrite, NewerGenerationWithoutInFlightRecordIsNotAFinding) {
  const Verdict verdict = Classify(Durable(7), BlockStamped(kOffset, 9));
  EXPECT_EQ(verdict.kind, Kind::kOk);
  EXPECT_TRUE(verdict.newer_than_state);
}

// --- torn write ---

TEST(TornWrite, StaleTailSectorsAreMappedSectorBySector) {
  // The 2018 blk-mq signature: the tail of a merged request carries old data.
  auto block = BlockStamped(kOffset, 7);
  const auto stale = BlockStamped(kOffset, 6);
  for (uint32_t i = 5; i < kSectors; ++i) block = WithSector(block, stale, i);
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kTornWrite);
  std::vector<SectorState> expected(5, SectorState::kNew);
  expected.resize(kSectors, SectorState::kOld);
  EXPECT_EQ(verdict.sectors, expected);
  EXPECT_EQ(verdict.found_generation, 6u);
}

TEST(TornWrite, StaleSectorsStayATornWriteWhenAZeroSectorIsThereToo) {
  auto block = WithSector(BlockStamped(kOffset, 7), BlockStamped(kOffset, 6), 3);
  std::fill_n(block.begin() + 6 * kSectorSize, kSectorSize, std::byte{0});
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kTornWrite);
  EXPECT_EQ(verdict.sectors[3], SectorState::kOld);
  EXPECT_EQ(verdict.sectors[6], SectorState::kZero);
  EXPECT_EQ(verdict.found_generation, 6u);
}

// --- damage confined to some sectors: reported for what they show, not torn ---
// A torn write leaves sectors of two generations of this block; zeros, bytes
// not ours, or another block's sectors among right ones are something else.

TEST(PartialDamage, ZeroSectorAmongRightOnesIsZeroed) {
  auto block = BlockStamped(kOffset, 7);
  std::fill_n(block.begin() + 7 * kSectorSize, kSectorSize, std::byte{0});
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kZeroed);
  std::vector<SectorState> expected(kSectors, SectorState::kNew);
  expected[7] = SectorState::kZero;
  EXPECT_EQ(verdict.sectors, expected);
  EXPECT_FALSE(verdict.found_generation.has_value());
}

TEST(PartialDamage, GarbageSectorAmongRightOnesIsForeignData) {
  auto block = BlockStamped(kOffset, 7);
  std::fill_n(block.begin() + 2 * kSectorSize, kSectorSize, std::byte{0x5A});
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kForeignData);
  EXPECT_EQ(verdict.sectors[2], SectorState::kForeign);
  EXPECT_EQ(verdict.sectors[1], SectorState::kNew);
}

TEST(PartialDamage, GarbageAndZeroSectorsTogetherAreForeignData) {
  auto block = BlockStamped(kOffset, 7);
  std::fill_n(block.begin() + 2 * kSectorSize, kSectorSize, std::byte{0x5A});
  std::fill_n(block.begin() + 5 * kSectorSize, kSectorSize, std::byte{0});
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kForeignData);
  EXPECT_EQ(verdict.sectors[5], SectorState::kZero);
}

TEST(PartialDamage, SectorOfAnotherTargetAmongRightOnesIsForeignData) {
  // (Not kOtherTarget: its 32-bit sector tag happens to equal kTarget's.)
  constexpr uint64_t kThirdTarget = 0x1111'2222'3333'4444;
  auto block = WithSector(BlockStamped(kOffset, 7), BlockStamped(kOffset, 7, kThirdTarget), 4);
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kForeignData);
  EXPECT_EQ(verdict.sectors[4], SectorState::kForeign);
}

TEST(PartialDamage, SectorFromAnotherBlockIsAMisdirectedWriteNamingThatBlock) {
  auto block = WithSector(BlockStamped(kOffset, 7), BlockStamped(9 * kBlockSize, 5), 4);
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kMisdirectedWrite);
  EXPECT_EQ(verdict.sectors[4], SectorState::kMisplaced);
  EXPECT_EQ(verdict.found_offset, 9 * kBlockSize);
  EXPECT_EQ(verdict.found_generation, 5u);
}

TEST(PartialDamage, ZeroSectorAmongSectorsOfAnInterruptedWriteIsStillReported) {
  // Sectors of durable 7 and in-flight 8 are forgiven; the zero one is not.
  auto block = WithSector(BlockStamped(kOffset, 7), BlockStamped(kOffset, 8), 1);
  std::fill_n(block.begin() + 6 * kSectorSize, kSectorSize, std::byte{0});
  const Verdict verdict = Classify(Durable(7, 8), block);
  EXPECT_EQ(verdict.kind, Kind::kZeroed);
  EXPECT_EQ(verdict.sectors[1], SectorState::kInFlight);
  EXPECT_EQ(verdict.sectors[6], SectorState::kZero);
}

TEST(LostWrite, AnInterruptedWriteOverLostDataIsStillTheLostWrite) {
  // Durable 7, 8 in flight: sectors of 8 are fine, sectors of 6 and none of 7
  // mean 7 was lost before 8 began. The same lost write as before 8 was
  // written, not a torn one: a power cut tearing 8 must not make it another
  // corruption.
  const auto block = WithSector(BlockStamped(kOffset, 8), BlockStamped(kOffset, 6), 1);
  const Verdict verdict = Classify(Durable(7, 8), block);
  EXPECT_EQ(verdict.kind, Kind::kLostWrite);
  EXPECT_EQ(verdict.found_generation, 6u);
  EXPECT_EQ(verdict.sectors[1], SectorState::kOld);
  EXPECT_EQ(verdict.sectors[0], SectorState::kInFlight);
}

TEST(LostWrite, AnEarlierCrashedWriteOverLostDataIsStillTheLostWrite) {
  // 8 was in flight at one crash, 9 at the next: sectors of 8 beside those of 6.
  const auto block = WithSector(BlockStamped(kOffset, 8), BlockStamped(kOffset, 6), 2);
  EXPECT_EQ(Classify(Durable(7, 9), block).kind, Kind::kLostWrite);
}

TEST(TornWrite, StaleSectorsBesideDurableAndInFlightOnesAreATornWrite) {
  // Some of durable 7 is there: its write was torn, whatever 8 left.
  auto block = WithSector(BlockStamped(kOffset, 7), BlockStamped(kOffset, 8), 0);
  block = WithSector(block, BlockStamped(kOffset, 6), 5);
  EXPECT_EQ(Classify(Durable(7, 8), block).kind, Kind::kTornWrite);
}

// --- zeroed, foreign, read failures ---

TEST(Zeroed, AllZeroDurableBlockIsZeroed) {
  EXPECT_EQ(Classify(Durable(7), std::vector<std::byte>(kBlockSize)).kind, Kind::kZeroed);
}

// --- a lost first write: zeros where the block's first write was acknowledged ---

Expectation FirstWriteDurable(uint64_t generation, uint64_t inflight = 0) {
  Expectation expectation = Durable(generation, inflight);
  expectation.first_write = true;
  return expectation;
}

TEST(LostFirstWrite, FirstWriteThatReadsBackIsOk) {
  EXPECT_EQ(Classify(FirstWriteDurable(7), BlockStamped(kOffset, 7)).kind, Kind::kOk);
}

TEST(LostFirstWrite, ZerosWhereTheFirstWriteWasAcknowledgedAreALostWrite) {
  const Verdict verdict = Classify(FirstWriteDurable(7), std::vector<std::byte>(kBlockSize));
  EXPECT_EQ(verdict.kind, Kind::kLostWrite);
  EXPECT_FALSE(verdict.found_generation.has_value());  // nothing of ours was found
}

TEST(LostFirstWrite, ZerosWithALaterWriteInFlightAreStillALostWrite) {
  // An interrupted write leaves old or new sectors, never zeros.
  EXPECT_EQ(Classify(FirstWriteDurable(7, 8), std::vector<std::byte>(kBlockSize)).kind,
            Kind::kLostWrite);
}

TEST(LostFirstWrite, ZeroSectorsBesideAnInterruptedWritesAreStillALostWrite) {
  // The lost first write, then a write of 8 in flight at a power cut landed
  // some of its sectors: still the lost write of 7, the same finding.
  auto block = std::vector<std::byte>(kBlockSize);
  block = WithSector(block, BlockStamped(kOffset, 8), 2);
  block = WithSector(block, BlockStamped(kOffset, 8), 3);
  const Verdict verdict = Classify(FirstWriteDurable(7, 8), block);
  EXPECT_EQ(verdict.kind, Kind::kLostWrite);
  EXPECT_FALSE(verdict.found_generation.has_value());
  EXPECT_EQ(verdict.sectors[0], SectorState::kZero);
  EXPECT_EQ(verdict.sectors[2], SectorState::kInFlight);
}

TEST(LostFirstWrite, ZeroSectorsAmongTheFirstWritesAreATornWrite) {
  // Part of the first write persisted, the rest still holds what the block
  // held before it.
  auto block = BlockStamped(kOffset, 7);
  std::fill(block.begin() + 4 * kSectorSize, block.end(), std::byte{0});
  const Verdict verdict = Classify(FirstWriteDurable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kTornWrite);
  EXPECT_FALSE(verdict.found_generation.has_value());
}

TEST(LostFirstWrite, GarbageAmongAFirstWritesZerosIsStillForeignData) {
  auto block = BlockStamped(kOffset, 7);
  std::fill(block.begin() + 4 * kSectorSize, block.end(), std::byte{0});
  std::fill_n(block.begin() + 6 * kSectorSize, kSectorSize, std::byte{0xAB});
  EXPECT_EQ(Classify(FirstWriteDurable(7), block).kind, Kind::kForeignData);
}

TEST(LostFirstWrite, ZerosWhereAnEarlierWriteWasDurableAreZeroed) {
  // first_write false: generation 7 replaced data that was durable before.
  EXPECT_EQ(Classify(Durable(7), std::vector<std::byte>(kBlockSize)).kind, Kind::kZeroed);
}

TEST(LostFirstWrite, ZerosWhereTheFirstWriteWasOnlyInFlightAreNeverReported) {
  Expectation expectation = Durable(0, /*inflight=*/8);
  expectation.first_write = true;
  EXPECT_EQ(Classify(expectation, std::vector<std::byte>(kBlockSize)).kind, Kind::kOk);
}

TEST(ForeignData, BytesOfAnotherFormatAreForeign) {
  std::vector<std::byte> block(kBlockSize);
  for (size_t i = 0; i < block.size(); ++i) block[i] = std::byte(i * 31 + 7);
  const Verdict verdict = Classify(Durable(7), block);
  EXPECT_EQ(verdict.kind, Kind::kForeignData);
  EXPECT_EQ(verdict.sectors, Repeat(SectorState::kForeign));
}

TEST(ForeignData, HalfZeroHalfGarbageIsForeign) {
  std::vector<std::byte> block(kBlockSize);
  std::fill(block.begin() + kBlockSize / 2, block.end(), std::byte{0xEE});
  EXPECT_EQ(Classify(Durable(7), block).kind, Kind::kForeignData);
}

TEST(FailedRead, NegativeResultIsAnIoErrorWithItsErrno) {
  const Verdict verdict = ClassifyFailedRead(-EIO);
  EXPECT_EQ(verdict.kind, Kind::kIoError);
  EXPECT_EQ(verdict.error_number, EIO);
}

TEST(FailedRead, FewerBytesThanTheBlockIsAShortRead) {
  const Verdict verdict = ClassifyFailedRead(1024);
  EXPECT_EQ(verdict.kind, Kind::kShortRead);
  EXPECT_EQ(verdict.bytes_read, 1024u);
}

TEST(KindName, NamesMatchTheJsonFormat) {
  EXPECT_EQ(KindName(Kind::kChecksumMismatch), "checksum_mismatch");
  EXPECT_EQ(KindName(Kind::kMisdirectedWrite), "misdirected_write");
  EXPECT_EQ(KindName(Kind::kLostWrite), "lost_write");
  EXPECT_EQ(KindName(Kind::kTornWrite), "torn_write");
  EXPECT_EQ(KindName(Kind::kZeroed), "zeroed");
  EXPECT_EQ(KindName(Kind::kForeignData), "foreign_data");
  EXPECT_EQ(KindName(Kind::kIoError), "io_error");
  EXPECT_EQ(KindName(Kind::kShortRead), "short_read");
}

// --- a block whose write failed with an error, read back ---

TEST(ResolveFailedWrite, TheFailedWritesBlockWholeLanded) {
  EXPECT_EQ(ResolveFailedWrite(Durable(7, 9), BlockStamped(kOffset, 9)), FailedWrite::kLanded);
  EXPECT_EQ(ResolveFailedWrite(Durable(0, 9), BlockStamped(kOffset, 9)), FailedWrite::kLanded);
}

TEST(ResolveFailedWrite, TheDurableBlockWholeWasNotWritten) {
  EXPECT_EQ(ResolveFailedWrite(Durable(7, 9), BlockStamped(kOffset, 7)), FailedWrite::kNotWritten);
}

TEST(ResolveFailedWrite, AFirstWriteThatLeftNoSectorWasNotWritten) {
  EXPECT_EQ(ResolveFailedWrite(Durable(0, 9), std::vector<std::byte>(kBlockSize)),
            FailedWrite::kNotWritten);
}

TEST(ResolveFailedWrite, SectorsOfBothGenerationsStayUndecided) {
  const auto mixed = WithSector(BlockStamped(kOffset, 7), BlockStamped(kOffset, 9), 3);
  EXPECT_EQ(ResolveFailedWrite(Durable(7, 9), mixed), FailedWrite::kUndecided);
  const auto first_torn =
      WithSector(std::vector<std::byte>(kBlockSize), BlockStamped(kOffset, 9), 0);
  EXPECT_EQ(ResolveFailedWrite(Durable(0, 9), first_torn), FailedWrite::kUndecided);
}

TEST(ResolveFailedWrite, AnotherBlocksDataIsLeftToTheClassifier) {
  EXPECT_EQ(ResolveFailedWrite(Durable(7, 9), BlockStamped(kOffset + kBlockSize, 9)),
            FailedWrite::kUndecided);
  EXPECT_EQ(ResolveFailedWrite(Durable(7, 9), std::vector<std::byte>(kBlockSize)),
            FailedWrite::kUndecided);
}

}  // namespace
}  // namespace fscanary::block
