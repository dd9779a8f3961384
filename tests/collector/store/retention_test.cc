// Retention deletes old reports, rolls old finding-free epochs up into one
// aggregate per host and facts, and deletes findings only when told to; what
// the analysis and the metrics read stays the same.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::EpochsOf;
using testing::FindingRecord;
using testing::HelloMessage;
using testing::Ingest;
using testing::ReportRecord;
using testing::SpoolLossRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

class Retention : public testing::BackendTest {};

TEST_P(Retention, OldReportsGoTheirExposureStaysAndFindingsStay) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts(), 1 * kDay)}, 1 * kDay);
  Ingest(*store, "a", {ReportRecord(1, 1 * kDay, 10), FindingRecord(2, 1 * kDay)}, 1 * kDay);
  Ingest(*store, "a", {ReportRecord(3, 9 * kDay, 5)}, 9 * kDay);

  absl::StatusOr<RetentionResult> result = store->ApplyRetention(
      {.report_max_age_nanos = 7 * kDay, .epoch_max_age_nanos = 7 * kDay}, 10 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reports_deleted, 1u);
  EXPECT_EQ(result->findings_deleted, 0u);
  // The current epoch is never old.
  EXPECT_EQ(result->epochs_merged + result->epochs_rolled_up, 0u);
  EXPECT_EQ(store->GetStats()->reports, 1u);
  EXPECT_EQ(store->ListFindings({})->findings_size(), 1);
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 15u);
}

TEST_P(Retention, AnOldFindingFreeEpochBecomesItsHostsAggregateWithItsExposure) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  // Host a: epochs 1 (no finding) and 2; host b: epochs 1 (a finding) and 2.
  for (const char* agent : {"a", "b"}) {
    Ingest(*store, agent, {HelloMessage(VmFacts("6.1.0-17"), 1 * kDay)}, 1 * kDay);
    Ingest(*store, agent, {ReportRecord(1, 1 * kDay + kSecond, 10)}, 1 * kDay);
  }
  Ingest(*store, "b", {FindingRecord(2, 1 * kDay + kSecond)}, 1 * kDay);
  for (const char* agent : {"a", "b"}) {
    Ingest(*store, agent, {HelloMessage(VmFacts("6.1.0-18"), 2 * kDay)}, 2 * kDay);
  }

  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->epochs_rolled_up, 1u);
  EXPECT_EQ(result->epochs_merged, 0u);
  EXPECT_EQ(result->reports_deleted, 1u);  // a's; b's epoch holds a finding
  const std::vector<EpochRecord> a = EpochsOf(*store, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].epoch, 1u);
  EXPECT_EQ(a[0].exposure.bytes_verified, 10u);
  EXPECT_EQ(a[0].exposure.reports, 1u);
  EXPECT_EQ(EpochsOf(*store, "b").size(), 2u);
  // Numbering goes on after the aggregate.
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-19"), 41 * kDay)}, 41 * kDay);
  EXPECT_EQ(EpochsOf(*store, "a").back().epoch, 3u);
}

// Reboots between two kernels, every epoch verifying some bytes: after
// retention, one aggregate per kernel holds the sums, and a later retention
// folds newer expired epochs into the same aggregates.
TEST_P(Retention, ExpiredEpochsOfOneHostAndFactsFoldIntoOneAggregate) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  uint64_t sequence = 0;
  auto epoch_on = [&](const std::string& kernel, int64_t day, uint64_t bytes) {
    Ingest(*store, "a", {HelloMessage(VmFacts(kernel), day * kDay)}, day * kDay);
    Ingest(*store, "a", {ReportRecord(++sequence, day * kDay + kSecond, bytes)}, day * kDay);
  };
  epoch_on("6.1.0-17", 1, 1);
  epoch_on("6.1.0-18", 2, 10);
  epoch_on("6.1.0-17", 3, 100);
  epoch_on("6.1.0-18", 4, 1000);
  epoch_on("6.1.0-17", 5, 10000);
  // The current epoch (an epoch ends where the next begins: day 5's at day 6).
  epoch_on("6.1.0-19", 6, 7);

  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->epochs_rolled_up, 2u);
  EXPECT_EQ(result->epochs_merged, 3u);
  std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 3u);
  EXPECT_EQ(epochs[0].facts.kernel_release(), "6.1.0-17");
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 10101u);
  EXPECT_EQ(epochs[0].exposure.reports, 3u);
  EXPECT_EQ(epochs[0].exposure.observed_nanos, 3 * 10 * kSecond);
  EXPECT_EQ(epochs[0].start_unix_nanos, 1 * kDay);
  EXPECT_EQ(epochs[0].stands_for, 3u);
  EXPECT_EQ(epochs[1].stands_for, 2u);
  EXPECT_EQ(epochs[2].stands_for, 1u);
  EXPECT_EQ(epochs[1].facts.kernel_release(), "6.1.0-18");
  EXPECT_EQ(epochs[1].exposure.bytes_verified, 1010u);
  EXPECT_EQ(epochs[2].exposure.bytes_verified, 7u);
  EXPECT_EQ(store->GetStats()->reports, 1u);  // only the current epoch's

  // Back on 6.1.0-17 for a day, then on 6.1.0-19 again: the 6.1.0-19 epoch
  // of day 6 becomes that kernel's aggregate, the 6.1.0-17 one of day 60
  // joins the 6.1.0-17 aggregate.
  epoch_on("6.1.0-17", 60, 5);
  epoch_on("6.1.0-19", 61, 3);
  result = store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 100 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->epochs_merged, 1u);     // 6.1.0-17 of day 60
  EXPECT_EQ(result->epochs_rolled_up, 1u);  // 6.1.0-19 of day 50, its first aggregate
  epochs = EpochsOf(*store, "a");
  uint64_t total = 0;
  for (const EpochRecord& epoch : epochs) total += epoch.exposure.bytes_verified;
  EXPECT_EQ(total, 11111u + 7 + 5 + 3);
  ASSERT_EQ(epochs.size(), 4u);  // aggregates of -17, -18, -19, and the current
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 10106u);
  EXPECT_EQ(epochs[0].stands_for, 4u);
}

TEST_P(Retention, SpoolLossesOfFoldedEpochsStayInEverySum) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  uint64_t sequence = 0;
  for (int64_t day = 1; day <= 6; ++day) {
    Ingest(*store, "a", {HelloMessage(VmFacts(day % 2 ? "6.1.0-17" : "6.1.0-18"), day * kDay)},
           day * kDay);
    Ingest(*store, "a", {SpoolLossRecord(++sequence, day * kDay + kSecond, 10 * day)}, day * kDay);
    Ingest(*store, "a", {SpoolLossRecord(++sequence, day * kDay + 2 * kSecond, 1)}, day * kDay);
  }
  const uint64_t expected = 10 * (1 + 2 + 3 + 4 + 5 + 6) + 6;
  EXPECT_EQ(store->GetStats()->spool_loss.findings_dropped(), expected);

  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->epochs_merged + result->epochs_rolled_up, 5u);  // not the current one
  EXPECT_EQ(store->GetStats()->spool_loss.findings_dropped(), expected);
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  ASSERT_EQ(hosts.size(), 1u);
  EXPECT_EQ(hosts[0].spool_loss.findings_dropped(), expected);
  // Again: the sums of the aggregates' rows are not counted twice.
  ASSERT_TRUE(store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 41 * kDay).ok());
  EXPECT_EQ(store->GetStats()->spool_loss.findings_dropped(), expected);
}

// A spool backlog: records created in an epoch long expired arrive today.
// Retention deletes or collapses their rows with the epoch, but a resend
// (the acknowledgement was lost) must still find them in the ledger.
TEST_P(Retention, RecordsArrivingLateInAnExpiredEpochAreStillDuplicatesWhenResent) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 1 * kDay)}, 1 * kDay);
  Ingest(*store, "a", {SpoolLossRecord(1, 1 * kDay + kSecond, 5)}, 1 * kDay);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 2 * kDay)}, 2 * kDay);
  const std::vector<v1::AgentMessage> late = {ReportRecord(2, 1 * kDay + kSecond, 10),
                                              SpoolLossRecord(3, 1 * kDay + kSecond, 7)};
  EXPECT_THAT(Ingest(*store, "a", late, 40 * kDay), ::testing::Each(testing::kStored));

  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs_rolled_up, 1u);
  EXPECT_EQ(result->reports_deleted, 1u);

  EXPECT_THAT(Ingest(*store, "a", late, 40 * kDay + kSecond), ::testing::Each(testing::kDuplicate));
  EXPECT_EQ(EpochsOf(*store, "a").front().exposure.bytes_verified, 10u);
  EXPECT_EQ(EpochsOf(*store, "a").front().exposure.reports, 1u);
  EXPECT_EQ(store->GetStats()->spool_loss.findings_dropped(), 12u);
}

// Epochs 1 and 3 on one scheduler, 2 on another with a finding (so kept): the
// roll-up folds 1 and 3 into an aggregate over days 1 to 4, which epoch 2
// lies within. Findings sent late still land in the epoch they were created in.
TEST_P(Retention, RecordsSentLateAfterARollUpLandInTheEpochTheyWereCreatedIn) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  const v1::HostFacts deadline = VmFacts("6.1.0-18", "mq-deadline");
  const v1::HostFacts none = VmFacts("6.1.0-18", "none");
  Ingest(*store, "a", {HelloMessage(deadline, 1 * kDay)}, 1 * kDay);
  Ingest(*store, "a", {HelloMessage(none, 2 * kDay)}, 2 * kDay);
  Ingest(*store, "a", {FindingRecord(1, 2 * kDay + kSecond)}, 2 * kDay);
  Ingest(*store, "a", {HelloMessage(deadline, 3 * kDay)}, 3 * kDay);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-19"), 4 * kDay)}, 4 * kDay);
  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->epochs_merged, 1u);

  Ingest(*store, "a", {FindingRecord(2, 3 * kDay + kSecond), FindingRecord(3, 2 * kDay + kSecond)},
         40 * kDay);
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 3u);
  EXPECT_EQ(epochs[0].stands_for, 2u);
  EXPECT_EQ(epochs[0].corruption_findings, 1u) << "the finding of day 3";
  EXPECT_EQ(epochs[1].facts.devices(0).scheduler(), "none");
  EXPECT_EQ(epochs[1].corruption_findings, 2u) << "the findings of day 2";
  EXPECT_EQ(epochs[2].corruption_findings, 0u);
}

TEST_P(Retention, DeletedFindingsKeepTheirCountsPerEpochHostAndKind) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 1 * kDay)}, 1 * kDay);
  Ingest(*store, "a",
         {FindingRecord(1, 1 * kDay + kSecond, v1::LOST_WRITE),
          FindingRecord(2, 1 * kDay + kSecond, v1::LOST_WRITE),
          FindingRecord(3, 1 * kDay + kSecond, v1::IO_ERROR)},
         1 * kDay);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 2 * kDay)}, 2 * kDay);
  Ingest(*store, "a", {FindingRecord(4, 2 * kDay + kSecond, v1::TORN_WRITE)}, 50 * kDay);
  const std::vector<EpochRecord> epochs_before = EpochsOf(*store, "a");
  const StoreStats stats_before = *store->GetStats();
  const HostActivity host_before = store->ListHostActivity()->at(0);

  absl::StatusOr<RetentionResult> result = store->ApplyRetention(
      {.epoch_max_age_nanos = 30 * kDay, .finding_max_age_nanos = 30 * kDay}, 60 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->findings_deleted, 3u);
  // The epoch whose findings are retired keeps its events: it is not folded.
  EXPECT_EQ(result->epochs_rolled_up + result->epochs_merged, 0u);
  ASSERT_EQ(store->ListFindings({})->findings_size(), 1);

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), epochs_before.size());
  for (size_t i = 0; i < epochs.size(); ++i) {
    EXPECT_EQ(epochs[i].findings_by_kind, epochs_before[i].findings_by_kind) << i;
    EXPECT_EQ(epochs[i].corruption_findings, epochs_before[i].corruption_findings) << i;
  }
  EXPECT_EQ(epochs[0].corruption_findings, 2u);
  EXPECT_EQ(store->GetStats()->findings_by_kind, stats_before.findings_by_kind);
  const HostActivity host = store->ListHostActivity()->at(0);
  EXPECT_EQ(host.findings_by_kind, host_before.findings_by_kind);
  EXPECT_EQ(host.last_corruption_received_unix_nanos,
            host_before.last_corruption_received_unix_nanos);
  EXPECT_EQ(store->ListHosts()->hosts(0).findings(), 4u);
  EXPECT_EQ(store->GetHost("a")->epochs(0).findings(), 3u);
}

TEST_P(Retention, FindingsAreDeletedOnlyWhenConfigured) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {FindingRecord(1, kDay)}, kDay);
  Ingest(*store, "a", {FindingRecord(2, 20 * kDay)}, 20 * kDay);

  ASSERT_TRUE(store->ApplyRetention({.report_max_age_nanos = kDay}, 100 * kDay).ok());
  EXPECT_EQ(store->ListFindings({})->findings_size(), 2);

  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.finding_max_age_nanos = 30 * kDay}, 40 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->findings_deleted, 1u);
  ASSERT_EQ(store->ListFindings({})->findings_size(), 1);
  EXPECT_EQ(store->ListFindings({})->findings(0).sequence(), 2u);
}

TEST_P(Retention, DeletesInChunksUntilNothingOldIsLeft) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  std::vector<v1::AgentMessage> reports;
  for (uint64_t sequence = 1; sequence <= 4500; ++sequence) {
    reports.push_back(ReportRecord(sequence, kDay, 1));
  }
  Ingest(*store, "a", reports, kDay);
  absl::StatusOr<RetentionResult> result =
      store->ApplyRetention({.report_max_age_nanos = kDay}, 3 * kDay);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->reports_deleted, 4500u);
  EXPECT_EQ(store->GetStats()->reports, 0u);
}

TEST_P(Retention, NegativeAgeIsRejected) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_EQ(store->ApplyRetention({.report_max_age_nanos = -1}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

FSCANARY_ON_EVERY_BACKEND(Retention);

}  // namespace
}  // namespace fscanary::store
