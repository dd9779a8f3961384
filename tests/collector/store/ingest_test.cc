// Ingest is idempotent on (agent id, sequence) and atomic per call.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using ::testing::ElementsAre;
using testing::EpochsOf;
using testing::FindingRecord;
using testing::HelloMessage;
using testing::Ingest;
using testing::kConflict;
using testing::kDuplicate;
using testing::kStored;
using testing::ReportRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

class Ingests : public testing::BackendTest {};

TEST_P(Ingests, SameSequenceTwiceIsStoredOnceAndReportedNotNew) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_THAT(Ingest(*store, "a", {FindingRecord(1, 100 * kSecond)}), ElementsAre(kStored));
  EXPECT_THAT(Ingest(*store, "a", {FindingRecord(1, 100 * kSecond)}), ElementsAre(kDuplicate));
  // Within one batch, too.
  EXPECT_THAT(
      Ingest(*store, "a", {FindingRecord(2, 101 * kSecond), FindingRecord(2, 101 * kSecond)}),
      ElementsAre(kStored, kDuplicate));

  absl::StatusOr<v1::ListFindingsResponse> findings = store->ListFindings({});
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_EQ(findings->findings_size(), 2);
}

TEST_P(Ingests, ADifferentRecordUnderAHeldSequenceIsAConflictNotADuplicate) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {FindingRecord(1, 100 * kSecond)});
  // A forged (or reused) sequence: same agent, same sequence, other content.
  const absl::StatusOr<std::vector<RecordResult>> replay =
      store->IngestBatch("a", std::vector{ReportRecord(1, 200 * kSecond, 4096)}, 1);
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_EQ(replay->size(), 1u);
  EXPECT_EQ(replay->front().outcome, kConflict);
  EXPECT_EQ(replay->front().held_sha256.size(), 64u);
  EXPECT_EQ(replay->front().received_sha256.size(), 64u);
  EXPECT_NE(replay->front().held_sha256, replay->front().received_sha256);
  // Nothing of it was stored, and the record held is still the one resent.
  EXPECT_EQ(EpochsOf(*store, "a").front().exposure.reports, 0u);
  EXPECT_THAT(Ingest(*store, "a", {FindingRecord(1, 100 * kSecond)}), ElementsAre(kDuplicate));
}

TEST_P(Ingests, AConflictInsideOneBatchLeavesTheRestOfTheBatchStored) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_THAT(Ingest(*store, "a",
                     {FindingRecord(1, 100 * kSecond), FindingRecord(1, 101 * kSecond),
                      FindingRecord(2, 102 * kSecond)}),
              ElementsAre(kStored, kConflict, kStored));
  EXPECT_EQ(store->ListFindings({})->findings_size(), 2);
}

TEST_P(Ingests, ReplayedReportAddsNoExposure) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts(), 100 * kSecond)});
  Ingest(*store, "a", {ReportRecord(1, 110 * kSecond, 4096)});
  EXPECT_THAT(Ingest(*store, "a", {ReportRecord(1, 110 * kSecond, 4096)}), ElementsAre(kDuplicate));
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 4096u);
  EXPECT_EQ(epochs[0].exposure.reports, 1u);
}

TEST_P(Ingests, SequencesAreCountedPerAgent) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_THAT(Ingest(*store, "a", {FindingRecord(1, kSecond)}), ElementsAre(kStored));
  EXPECT_THAT(Ingest(*store, "b", {FindingRecord(1, kSecond)}), ElementsAre(kStored));
  EXPECT_EQ(*store->MaxSequence("a"), 1u);
  EXPECT_EQ(*store->MaxSequence("unknown"), 0u);
}

TEST_P(Ingests, MaxSequenceIsTheHighestStoredWhateverTheOrder) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  // Findings travel ahead of routine reports, so sequences arrive out of order.
  Ingest(*store, "a", {FindingRecord(7, kSecond), ReportRecord(3, kSecond, 1)});
  Ingest(*store, "a", {ReportRecord(5, kSecond, 1)});
  EXPECT_EQ(*store->MaxSequence("a"), 7u);
}

TEST_P(Ingests, InvalidRecordRejectsTheWholeBatch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  const absl::StatusOr<std::vector<RecordResult>> stored =
      store->IngestBatch("a", std::vector{FindingRecord(1, kSecond), FindingRecord(0, kSecond)}, 1);
  EXPECT_EQ(stored.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->ListFindings({})->findings_size(), 0);
  // Nothing of it was kept, in the database or in the store's memory.
  EXPECT_THAT(Ingest(*store, "a", {FindingRecord(1, kSecond)}), ElementsAre(kStored));
  EXPECT_EQ(*store->MaxSequence("a"), 1u);
}

TEST_P(Ingests, MessageWithoutBodyIsRejected) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  v1::AgentMessage empty;
  empty.set_sequence(1);
  EXPECT_EQ(store->IngestBatch("a", std::vector{empty}, 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(Ingests, GroupCommitStoresEveryAgentsBatch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  const std::vector<v1::AgentMessage> a = {FindingRecord(1, kSecond), FindingRecord(2, kSecond)};
  const std::vector<v1::AgentMessage> b = {FindingRecord(1, kSecond)};
  const std::vector<AgentBatch> batches = {{.agent_id = "a", .messages = a},
                                           {.agent_id = "b", .messages = b}};
  absl::StatusOr<std::vector<std::vector<RecordResult>>> stored = store->IngestBatches(batches, 1);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].size(), 2u);
  EXPECT_EQ((*stored)[1].size(), 1u);
  EXPECT_EQ(store->ListFindings({})->findings_size(), 3);
}

TEST_P(Ingests, ARecordTheStoreRefusesFailsOnlyItsOwnAgentsBatch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  ASSERT_NO_FATAL_FAILURE(testing::RefuseFindingSequence(dir, 13));
  const std::vector<v1::AgentMessage> a = {FindingRecord(1, kSecond), FindingRecord(2, kSecond)};
  const std::vector<v1::AgentMessage> m = {FindingRecord(12, kSecond), FindingRecord(13, kSecond)};
  const std::vector<v1::AgentMessage> z = {FindingRecord(1, kSecond)};
  const std::vector<AgentBatch> batches = {{.agent_id = "a", .messages = a},
                                           {.agent_id = "m", .messages = m},
                                           {.agent_id = "z", .messages = z}};
  absl::StatusOr<std::vector<std::vector<RecordResult>>> stored = store->IngestBatches(batches, 1);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 3u);
  for (const size_t good : {size_t{0}, size_t{2}}) {
    for (const RecordResult& result : (*stored)[good]) EXPECT_EQ(result.outcome, kStored);
  }
  ASSERT_EQ((*stored)[1].size(), 2u);
  for (const RecordResult& result : (*stored)[1]) {
    EXPECT_EQ(result.outcome, RecordResult::Outcome::kFailed);
    EXPECT_THAT(std::string(result.error.message()), ::testing::HasSubstr("poison record"));
  }
  EXPECT_EQ(store->ListFindings({})->findings_size(), 3);
  EXPECT_EQ(*store->MaxSequence("a"), 2u);
  EXPECT_EQ(*store->MaxSequence("z"), 1u);
  // Nothing of m's batch was kept, in the database or in the store's memory:
  // its record 12 is new when it comes again.
  EXPECT_EQ(*store->MaxSequence("m"), 0u);
  EXPECT_THAT(Ingest(*store, "m", {FindingRecord(12, kSecond)}), ElementsAre(kStored));
  EXPECT_EQ(*store->MaxSequence("m"), 12u);
}

TEST_P(Ingests, SpoolLossIsStoredAndCounted) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {testing::SpoolLossRecord(1, kSecond, 2)});
  Ingest(*store, "a",
         {testing::SpoolLossRecord(1, kSecond, 2), testing::SpoolLossRecord(2, kSecond, 5)});
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->spool_loss.findings_dropped(), 7u);
  EXPECT_EQ(stats->spool_loss.reports_summarised(), 6u);
}

TEST_P(Ingests, HeartbeatMovesLastSeenForward) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  v1::AgentMessage heartbeat;
  heartbeat.mutable_heartbeat();
  EXPECT_THAT(Ingest(*store, "a", {heartbeat}, 50), ElementsAre(kStored));
  ASSERT_TRUE(store->Touch("a", 70).ok());
  ASSERT_TRUE(store->Touch("a", 60).ok());  // late: never moves it back
  const v1::GetHostResponse host = *store->GetHost("a");
  EXPECT_EQ(host.host().first_seen_unix_nanos(), 50);
  EXPECT_EQ(host.host().last_seen_unix_nanos(), 70);
}

FSCANARY_ON_EVERY_BACKEND(Ingests);

}  // namespace
}  // namespace fscanary::store
