#include "checkers/block/state/block_state.h"

#include <fcntl.h>

#include <memory>

#include "gtest/gtest.h"
#include "io/posix.h"
#include "tests/temp_dir.h"

namespace fscanary::state {
namespace {

constexpr TargetGeometry kGeometry{
    .target_id = 0xABCD, .block_size = 4096, .data_start = 4096, .block_count = 100};

TEST(BlockStateFile, NewStateKnowsNothingDurable) {
  testing::TempDir dir;
  auto state = BlockStateFile::Create(dir.path(), kGeometry);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->geometry(), kGeometry);
  EXPECT_EQ(state->Get(42).durable_generation, 0u);
  EXPECT_EQ(state->max_generation(), 0u);
}

TEST(BlockStateFile, FlushedRecordsSurviveReopening) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkInFlight(3, 5);
    state->MarkDurable(3, 5);
    state->MarkInFlight(3, 9);
    state->MarkInFlight(7, 9);
    ASSERT_TRUE(state->Flush().ok());
  }
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/false);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->Get(3).durable_generation, 5u);
  EXPECT_EQ(reopened->Get(3).inflight_generation, 9u);
  EXPECT_EQ(reopened->Get(7).durable_generation, 0u);
  EXPECT_EQ(reopened->Get(7).inflight_generation, 9u);
  EXPECT_EQ(reopened->max_generation(), 9u);
}

TEST(BlockStateFile, UnflushedChangesAreNotOnDisk) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkDurable(1, 4);
  }
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->Get(1).durable_generation, 0u);
}

TEST(BlockStateFile, CreatingTheSameTargetTwiceFails) {
  testing::TempDir dir;
  ASSERT_TRUE(BlockStateFile::Create(dir.path(), kGeometry).ok());
  EXPECT_EQ(BlockStateFile::Create(dir.path(), kGeometry).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(BlockStateFile, DamagedRecordIsFlaggedNotTrusted) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkDurable(2, 6);
    ASSERT_TRUE(state->Flush().ok());
  }
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  auto fd = io::Open(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  const std::byte garbage[1] = {std::byte{0x77}};
  ASSERT_TRUE(io::WriteAll(fd->get(), garbage, 4096 + 2 * 16 + 1, path).ok());
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened->Get(2).damaged);
  EXPECT_EQ(reopened->damaged_records(), 1u);
}

TEST(BlockStateFile, RecordCopiedToAnotherBlockIsDamaged) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkDurable(2, 6);
    ASSERT_TRUE(state->Flush().ok());
  }
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  auto fd = io::Open(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  std::byte record[16];
  ASSERT_TRUE(io::ReadAll(fd->get(), record, 4096 + 2 * 16, path).ok());
  ASSERT_TRUE(io::WriteAll(fd->get(), record, 4096 + 5 * 16, path).ok());
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_TRUE(reopened->Get(5).damaged);
}

TEST(BlockStateFile, DamagedHeaderIsAClearError) {
  testing::TempDir dir;
  ASSERT_TRUE(BlockStateFile::Create(dir.path(), kGeometry).ok());
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  auto fd = io::Open(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  const std::byte garbage[1] = {std::byte{0x77}};
  ASSERT_TRUE(io::WriteAll(fd->get(), garbage, 20, path).ok());
  const auto status = BlockStateFile::Open(dir.path(), kGeometry.target_id, false).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(std::string(status.message()).find("header checksum"), std::string::npos);
}

TEST(BlockStateFile, TruncatedFileIsAClearError) {
  testing::TempDir dir;
  ASSERT_TRUE(BlockStateFile::Create(dir.path(), kGeometry).ok());
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  ASSERT_EQ(::truncate(path.c_str(), 4096 + 16 * 10), 0);
  const auto status = BlockStateFile::Open(dir.path(), kGeometry.target_id, false).status();
  EXPECT_NE(std::string(status.message()).find("truncated"), std::string::npos);
}

TEST(BlockStateFile, SecondWriterIsRefusedWhileTheFirstHoldsTheLock) {
  testing::TempDir dir;
  auto first = BlockStateFile::Create(dir.path(), kGeometry);
  ASSERT_TRUE(first.ok());
  const auto second = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/true);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(BlockStateFile, MissingStateIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(BlockStateFile::Open(dir.path(), 0x99, false).status().code(),
            absl::StatusCode::kNotFound);
}

// --- the first-write flag (state version 2) ---

TEST(FirstWrite, NewStateFilesAreOfTheCurrentVersion) {
  testing::TempDir dir;
  auto state = BlockStateFile::Create(dir.path(), kGeometry);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->version(), kStateVersion);
}

TEST(FirstWrite, ABlocksFirstAcknowledgedWriteIsMarkedFirstAndSurvivesReopening) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkInFlight(3, 5);
    EXPECT_TRUE(state->Get(3).first_write);
    state->MarkDurable(3, 5);
    state->MarkInFlight(3, 9);  // a second write in flight keeps what 5 was
    ASSERT_TRUE(state->Flush().ok());
  }
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/false);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ(reopened->Get(3),
            (BlockRecord{.durable_generation = 5, .inflight_generation = 9, .first_write = true}));
}

TEST(FirstWrite, ALaterAcknowledgedWriteIsNotTheFirst) {
  testing::TempDir dir;
  auto state = BlockStateFile::Create(dir.path(), kGeometry);
  ASSERT_TRUE(state.ok());
  state->MarkInFlight(3, 5);
  state->MarkDurable(3, 5);
  state->MarkInFlight(3, 9);
  state->MarkDurable(3, 9);
  EXPECT_EQ(state->Get(3), (BlockRecord{.durable_generation = 9}));
}

TEST(FirstWrite, AWriteOverADamagedRecordIsNotKnownToBeTheFirst) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkDurable(2, 6);
    ASSERT_TRUE(state->Flush().ok());
  }
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  {
    auto fd = io::Open(path, O_RDWR);
    ASSERT_TRUE(fd.ok());
    const std::byte garbage[1] = {std::byte{0x77}};
    ASSERT_TRUE(io::WriteAll(fd->get(), garbage, 4096 + 2 * 16 + 1, path).ok());
  }
  auto state = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/true);
  ASSERT_TRUE(state.ok());
  ASSERT_TRUE(state->Get(2).damaged);
  state->MarkInFlight(2, 7);
  EXPECT_FALSE(state->Get(2).first_write);
  state->MarkDurable(2, 7);
  EXPECT_EQ(state->Get(2), (BlockRecord{.durable_generation = 7}));
}

TEST(FirstWrite, AVersion1StateFileStaysVersion1AndNeverClaimsAFirstWrite) {
  testing::TempDir dir;
  {
    auto created = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(created.ok());
  }
  // Rewrite the header as an older agent would have created it.
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  {
    auto fd = io::Open(path, O_RDWR);
    ASSERT_TRUE(fd.ok());
    ASSERT_TRUE(
        io::WriteAll(fd->get(),
                     EncodeStateHeader({.geometry = kGeometry, .created_ns = 1, .version = 1}), 0,
                     path)
            .ok());
  }
  {
    auto state = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/true);
    ASSERT_TRUE(state.ok()) << state.status();
    EXPECT_EQ(state->version(), 1u);
    state->MarkInFlight(3, 5);
    state->MarkDurable(3, 5);
    ASSERT_TRUE(state->Flush().ok());
  }
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, /*writable=*/false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->Get(3), (BlockRecord{.durable_generation = 5}));
  std::byte record[16];
  auto fd = io::Open(path, O_RDONLY);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(io::ReadAll(fd->get(), record, 4096 + 3 * 16, path).ok());
  EXPECT_EQ(record[11], std::byte{0});  // no flag bit where a version 1 reader would see a delta
}

TEST(BlockStateFile, AClearedWriteInFlightIsForgottenAndTheDurableOneKept) {
  testing::TempDir dir;
  {
    auto state = BlockStateFile::Create(dir.path(), kGeometry);
    ASSERT_TRUE(state.ok());
    state->MarkInFlight(3, 5);
    state->MarkDurable(3, 5);
    state->MarkInFlight(3, 9);
    state->ClearInFlight(3);
    state->MarkInFlight(4, 9);
    state->ClearInFlight(4);
    ASSERT_TRUE(state->Flush().ok());
  }
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->Get(3).durable_generation, 5u);
  EXPECT_EQ(reopened->Get(3).inflight_generation, 0u);
  EXPECT_EQ(reopened->Get(4).durable_generation, 0u);
  EXPECT_EQ(reopened->Get(4).inflight_generation, 0u);
}

TEST(BlockStateFile, PendingBytesNameTheRecordsTheNextFlushWrites) {
  testing::TempDir dir;
  auto state = BlockStateFile::Create(dir.path(), kGeometry);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->PendingBytes().length, 0u);
  state->MarkInFlight(2, 1);
  state->MarkInFlight(5, 1);
  EXPECT_EQ(state->PendingBytes().offset, 4096u + 2 * 16);
  EXPECT_EQ(state->PendingBytes().length, 4u * 16);
  ASSERT_TRUE(state->Flush().ok());
  EXPECT_EQ(state->PendingBytes().length, 0u);
}

TEST(BlockStateFile, RecordsChangedBehindItsBackAreFoundAndWrittenAgain) {
  testing::TempDir dir;
  auto state = std::make_unique<absl::StatusOr<BlockStateFile>>(
      BlockStateFile::Create(dir.path(), kGeometry));
  ASSERT_TRUE(state->ok());
  BlockStateFile& writer = **state;
  for (uint64_t block = 0; block < 10; ++block) {
    writer.MarkInFlight(block, 4);
    writer.MarkDurable(block, 4);
  }
  ASSERT_TRUE(writer.Flush().ok());
  auto clean = writer.CheckStored(0, kGeometry.block_count);
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_TRUE(clean->empty());

  // One record damaged, one lost (back to "never written"), as a filesystem
  // that loses or garbles the agent's own writes would leave them.
  const std::string path = BlockStateFile::PathFor(dir.path(), kGeometry.target_id);
  auto fd = io::Open(path, O_RDWR);
  ASSERT_TRUE(fd.ok());
  const std::byte garbage[1] = {std::byte{0x77}};
  ASSERT_TRUE(io::WriteAll(fd->get(), garbage, 4096 + 2 * 16 + 1, path).ok());
  const std::byte zeros[16] = {};
  ASSERT_TRUE(io::WriteAll(fd->get(), zeros, 4096 + 7 * 16, path).ok());

  auto found = writer.CheckStored(0, kGeometry.block_count);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, (std::vector<uint64_t>{2, 7}));
  // What the checker knows is written back.
  ASSERT_TRUE(writer.Flush().ok());
  state.reset();
  auto reopened = BlockStateFile::Open(dir.path(), kGeometry.target_id, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(reopened->damaged_records(), 0u);
  EXPECT_EQ(reopened->Get(7).durable_generation, 4u);
}

}  // namespace
}  // namespace fscanary::state
