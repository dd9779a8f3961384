// The state file format pinned by golden bytes (tests/checkers/block/state/golden/):
// the header and every kind of record decode to known values, and encoding
// those values gives the same bytes; BlockStateFile reads the golden file.

#include <array>
#include <fstream>
#include <vector>

#include "checkers/block/state/block_state.h"
#include "checkers/block/state/state_format.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"
#include "tests/temp_dir.h"

namespace fscanary::state {
namespace {

constexpr TargetGeometry kGeometry{
    .target_id = 0x0123'4567'89AB'CDEF, .block_size = 4096, .data_start = 4096, .block_count = 4};
constexpr uint64_t kCreated = 1'700'000'000'000'000'000;
// The records of blocks 0..3 in the golden file, in order.
const std::array<BlockRecord, 4> kRecords = {
    BlockRecord{.first_write = true},                                // never written
    BlockRecord{.durable_generation = 5},                            // durable, idle
    BlockRecord{.durable_generation = 5, .inflight_generation = 9},  // a write in flight
    BlockRecord{.inflight_generation = kUnknownInFlight},            // too far ahead to record
};

std::vector<std::byte> Golden() {
  return testing::ReadGoldenHex("tests/checkers/block/state/golden/state_v1.hex");
}

std::span<const std::byte, kRecordBytes> RecordOf(const std::vector<std::byte>& file,
                                                  uint64_t block) {
  return std::span<const std::byte, kRecordBytes>(
      file.data() + kStateHeaderBytes + block * kRecordBytes, kRecordBytes);
}

TEST(GoldenStateFile, IsAHeaderAndFourRecords) {
  EXPECT_EQ(Golden().size(), kStateHeaderBytes + 4 * kRecordBytes);
}

TEST(GoldenStateFile, HeaderDecodesToItsKnownFields) {
  const std::vector<std::byte> golden = Golden();
  const absl::StatusOr<StateHeader> header =
      ParseStateHeader(std::span<const std::byte>(golden).first(kStateHeaderBytes));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->geometry, kGeometry);
  EXPECT_EQ(header->created_ns, kCreated);
  EXPECT_EQ(header->version, 1u);
}

TEST(GoldenStateFile, EncodingTheHeaderGivesTheSameBytes) {
  const std::vector<std::byte> golden = Golden();
  EXPECT_EQ(EncodeStateHeader({.geometry = kGeometry, .created_ns = kCreated, .version = 1}),
            std::vector<std::byte>(golden.begin(), golden.begin() + kStateHeaderBytes));
}

TEST(GoldenStateFile, EveryRecordDecodesToItsKnownValues) {
  const std::vector<std::byte> golden = Golden();
  for (uint64_t block = 0; block < kRecords.size(); ++block) {
    EXPECT_EQ(DecodeRecord(1, RecordOf(golden, block), kGeometry.target_id, block), kRecords[block])
        << "block " << block;
  }
}

TEST(GoldenStateFile, EncodingEveryWrittenRecordGivesTheSameBytes) {
  const std::vector<std::byte> golden = Golden();
  // Block 0 was never written: its record is all zero and never encoded.
  for (uint64_t block = 1; block < kRecords.size(); ++block) {
    const std::array<std::byte, kRecordBytes> encoded =
        EncodeRecord(1, kGeometry.target_id, block, kRecords[block]);
    const std::span<const std::byte, kRecordBytes> expected = RecordOf(golden, block);
    EXPECT_TRUE(std::equal(encoded.begin(), encoded.end(), expected.begin())) << "block " << block;
  }
}

TEST(GoldenStateFile, ARecordMovedToAnotherBlockIsDamaged) {
  const std::vector<std::byte> golden = Golden();
  EXPECT_TRUE(DecodeRecord(1, RecordOf(golden, 1), kGeometry.target_id, 2).damaged);
}

TEST(GoldenStateFile, BlockStateFileOpensIt) {
  testing::TempDir dir;
  const std::vector<std::byte> golden = Golden();
  std::ofstream(BlockStateFile::PathFor(dir.path(), kGeometry.target_id), std::ios::binary)
      << testing::AsString(golden);
  auto state = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/false);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->geometry(), kGeometry);
  for (uint64_t block = 0; block < kRecords.size(); ++block) {
    EXPECT_EQ(state->Get(block), kRecords[block]) << "block " << block;
  }
  EXPECT_EQ(state->max_generation(), 9u);
  EXPECT_EQ(state->damaged_records(), 0u);
}

// --- version 2: the first-write flag ---

constexpr TargetGeometry kGeometryV2{
    .target_id = 0x0123'4567'89AB'CDEF, .block_size = 4096, .data_start = 4096, .block_count = 5};
const std::array<BlockRecord, 5> kRecordsV2 = {
    BlockRecord{.first_write = true},                           // never written
    BlockRecord{.durable_generation = 5, .first_write = true},  // its first write, durable
    BlockRecord{.durable_generation = 5, .inflight_generation = 9, .first_write = true},
    BlockRecord{.inflight_generation = 9, .first_write = true},  // first write in flight
    BlockRecord{.durable_generation = 5, .inflight_generation = kUnknownInFlight},
};

std::vector<std::byte> GoldenV2() {
  return testing::ReadGoldenHex("tests/checkers/block/state/golden/state_v2.hex");
}

TEST(GoldenStateFileV2, HeaderAndRecordsDecodeToTheirKnownValues) {
  const std::vector<std::byte> golden = GoldenV2();
  ASSERT_EQ(golden.size(), kStateHeaderBytes + 5 * kRecordBytes);
  const absl::StatusOr<StateHeader> header =
      ParseStateHeader(std::span<const std::byte>(golden).first(kStateHeaderBytes));
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->geometry, kGeometryV2);
  EXPECT_EQ(header->created_ns, kCreated);
  EXPECT_EQ(header->version, 2u);
  for (uint64_t block = 0; block < kRecordsV2.size(); ++block) {
    EXPECT_EQ(DecodeRecord(2, RecordOf(golden, block), kGeometryV2.target_id, block),
              kRecordsV2[block])
        << "block " << block;
  }
}

TEST(GoldenStateFileV2, EncodingTheValuesGivesTheSameBytes) {
  const std::vector<std::byte> golden = GoldenV2();
  std::vector<std::byte> encoded = EncodeStateHeader(
      {.geometry = kGeometryV2, .created_ns = kCreated, .version = kStateVersion});
  encoded.resize(kStateHeaderBytes + kRecordBytes);  // block 0: never written, all zero
  for (uint64_t block = 1; block < kRecordsV2.size(); ++block) {
    const std::array<std::byte, kRecordBytes> record =
        EncodeRecord(2, kGeometryV2.target_id, block, kRecordsV2[block]);
    encoded.insert(encoded.end(), record.begin(), record.end());
  }
  EXPECT_EQ(encoded, golden);
}

TEST(GoldenStateFileV2, AVersion1ReaderWouldNotSeeTheFlag) {
  // Why the flag needed a new version: read as version 1, a first write's
  // record claims a write in flight 2^31 generations ahead.
  const std::vector<std::byte> golden = GoldenV2();
  const BlockRecord as_v1 = DecodeRecord(1, RecordOf(golden, 1), kGeometryV2.target_id, 1);
  EXPECT_FALSE(as_v1.first_write);
  EXPECT_EQ(as_v1.inflight_generation, 5u + 0x8000'0000u);
}

}  // namespace
}  // namespace fscanary::state
