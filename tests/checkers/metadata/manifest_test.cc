#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "checkers/metadata/manifest_codec.h"
#include "checkers/metadata/manifest_store.h"
#include "checkers/metadata/op_generator.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace fscanary::metadata {
namespace {

constexpr uint64_t kTreeId = 0x1234;
constexpr uint64_t kSeed = 77;

// The model after `count` generated operations (pure: no disk involved).
TreeModel ModelAfter(uint64_t count, uint64_t entries = 300) {
  TreeModel model;
  for (uint64_t i = 0; i < count; ++i) {
    const Op op = NextOp(model, kSeed, {.entries = entries});
    EXPECT_TRUE(ApplyOp(model, op).ok());
  }
  return model;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

std::string JournalPath(const testing::TempDir& dir) {
  return dir.Join(std::string(kJournalFileName));
}

// A journal after the snapshot of `base`: `ops` done, then (if asked) one
// more whose outcome was never written.
void WriteJournal(const testing::TempDir& dir, const TreeModel& base, uint64_t ops,
                  bool last_pending, TreeModel& model) {
  auto journal = ManifestJournal::Rewrite(dir.path(), kTreeId, kSeed, base);
  ASSERT_TRUE(journal.ok()) << journal.status();
  model = base;
  for (uint64_t i = 0; i < ops; ++i) {
    const Op op = NextOp(model, kSeed, {.entries = 300});
    ASSERT_TRUE((*journal)->AppendIntent(op).ok());
    ASSERT_TRUE(ApplyOp(model, op).ok());
    ASSERT_TRUE((*journal)->AppendOutcome(op.seq, /*done=*/true).ok());
  }
  if (last_pending) {
    ASSERT_TRUE((*journal)->AppendIntent(NextOp(model, kSeed, {.entries = 300})).ok());
  }
}

TEST(ManifestCodec, ModelDecodesToItself) {
  const TreeModel model = ModelAfter(500);
  ASSERT_GT(model.paths.size(), 100u);
  auto decoded = DecodeModel(EncodeModel(model));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, model);
}

TEST(ManifestCodec, OperationDecodesToItself) {
  TreeModel model = ModelAfter(200);
  for (int i = 0; i < 200; ++i) {
    const Op op = NextOp(model, kSeed, {.entries = 300});
    auto decoded = DecodeOp(EncodeOp(op));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, op);
    ASSERT_TRUE(ApplyOp(model, op).ok());
  }
}

TEST(ManifestCodec, EveryTruncationOfAModelIsDataLoss) {
  const std::string bytes = EncodeModel(ModelAfter(40));
  for (size_t length = 0; length < bytes.size(); length += 7) {
    EXPECT_EQ(DecodeModel(bytes.substr(0, length)).status().code(), absl::StatusCode::kDataLoss)
        << length;
  }
}

TEST(ManifestStore, JournalReplaysOntoTheSnapshot) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 50, /*last_pending=*/false, model);
  auto loaded = LoadManifest(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->tree_id, kTreeId);
  EXPECT_EQ(loaded->seed, kSeed);
  EXPECT_EQ(loaded->model, model);
  EXPECT_FALSE(loaded->pending);
  EXPECT_FALSE(loaded->torn_tail);
  EXPECT_EQ(loaded->journal_records, 100u);
}

TEST(ManifestStore, IntentWithoutOutcomeIsPending) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 5, /*last_pending=*/true, model);
  auto loaded = LoadManifest(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model, model);
  ASSERT_TRUE(loaded->pending);
  EXPECT_EQ(*loaded->pending, NextOp(model, kSeed, {.entries = 300}));
}

TEST(ManifestStore, TornLastRecordIsIgnoredAtEveryLength) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 5, /*last_pending=*/false, model);
  const std::string intact = ReadFile(JournalPath(dir));
  // One more intent, then every prefix of it, as a kill mid-append leaves it.
  TreeModel unused;
  WriteJournal(dir, ModelAfter(100), 5, /*last_pending=*/true, unused);
  const std::string longer = ReadFile(JournalPath(dir));
  ASSERT_TRUE(longer.starts_with(intact));
  for (size_t cut = intact.size() + 1; cut < longer.size(); ++cut) {
    WriteFile(JournalPath(dir), longer.substr(0, cut));
    auto loaded = LoadManifest(dir.path());
    ASSERT_TRUE(loaded.ok()) << cut << ": " << loaded.status();
    EXPECT_TRUE(loaded->torn_tail) << cut;
    EXPECT_FALSE(loaded->pending) << cut;
    EXPECT_EQ(loaded->model, model) << cut;
  }
}

TEST(ManifestStore, ZerosAfterTheLastRecordAreATornAppend) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 5, /*last_pending=*/false, model);
  WriteFile(JournalPath(dir), ReadFile(JournalPath(dir)) + std::string(300, '\0'));
  auto loaded = LoadManifest(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(loaded->torn_tail);
  EXPECT_EQ(loaded->model, model);
}

TEST(ManifestStore, DamagedRecordInTheMiddleFailsNamingFileAndOffset) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 5, /*last_pending=*/false, model);
  std::string journal = ReadFile(JournalPath(dir));
  // The header frame is 41 bytes; the first record's payload starts at 53.
  journal[60] ^= 0x40;
  WriteFile(JournalPath(dir), journal);
  auto loaded = LoadManifest(dir.path());
  ASSERT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss) << loaded.status();
  EXPECT_NE(loaded.status().message().find(JournalPath(dir)), std::string::npos);
  EXPECT_NE(loaded.status().message().find("offset 41"), std::string::npos) << loaded.status();
}

TEST(ManifestStore, DamagedSnapshotFailsNamingIt) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 0, /*last_pending=*/false, model);
  const std::string path = dir.Join(std::string(kSnapshotFileName));
  std::string snapshot = ReadFile(path);
  snapshot[snapshot.size() / 2] ^= 1;
  WriteFile(path, snapshot);
  auto loaded = LoadManifest(dir.path());
  ASSERT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(path), std::string::npos) << loaded.status();
}

TEST(ManifestStore, JournalOfAnotherTreeIsRefused) {
  testing::TempDir dir;
  testing::TempDir other;
  TreeModel model;
  WriteJournal(dir, ModelAfter(10), 3, false, model);
  ASSERT_TRUE(ManifestJournal::Rewrite(other.path(), kTreeId + 1, kSeed, model).ok());
  std::filesystem::copy_file(JournalPath(other), JournalPath(dir),
                             std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(LoadManifest(dir.path()).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ManifestStore, NoSnapshotIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(LoadManifest(dir.path()).status().code(), absl::StatusCode::kNotFound);
}

TEST(ManifestStore, CompactionPreservesTheState) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 60, /*last_pending=*/false, model);
  ASSERT_TRUE(ManifestJournal::Rewrite(dir.path(), kTreeId, kSeed, model).ok());
  auto loaded = LoadManifest(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model, model);
  EXPECT_EQ(loaded->journal_records, 0u);
}

TEST(ManifestStore, CrashBetweenSnapshotAndJournalRenameKeepsTheState) {
  testing::TempDir dir;
  TreeModel model;
  WriteJournal(dir, ModelAfter(100), 30, /*last_pending=*/false, model);
  const std::string old_journal = ReadFile(JournalPath(dir));
  ASSERT_TRUE(ManifestJournal::Rewrite(dir.path(), kTreeId, kSeed, model).ok());
  // The new snapshot is in place, the journal is still the old one.
  WriteFile(JournalPath(dir), old_journal);
  auto loaded = LoadManifest(dir.path());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model, model);
  EXPECT_FALSE(loaded->pending);
}

}  // namespace
}  // namespace fscanary::metadata
