// Retention deletes old reports and old finding-free epochs, and findings
// only when told to.

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
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

TEST(Retention, OldReportsGoTheirExposureStaysAndFindingsStay) {
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
  EXPECT_EQ(result->epochs_deleted, 0u);  // the current epoch is never old
  EXPECT_EQ(store->GetStats()->reports, 1u);
  EXPECT_EQ(store->ListFindings({})->findings_size(), 1);
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 15u);
}

TEST(Retention, OldClosedEpochGoesUnlessItHoldsAFinding) {
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
  EXPECT_EQ(result->epochs_deleted, 1u);
  EXPECT_EQ(result->reports_deleted, 1u);
  const std::vector<EpochRecord> a = EpochsOf(*store, "a");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].epoch, 2u);
  EXPECT_EQ(EpochsOf(*store, "b").size(), 2u);
  // Numbering goes on after the deleted epoch.
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-19"), 41 * kDay)}, 41 * kDay);
  EXPECT_EQ(EpochsOf(*store, "a").back().epoch, 3u);
}

TEST(Retention, FindingsAreDeletedOnlyWhenConfigured) {
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

TEST(Retention, DeletesInChunksUntilNothingOldIsLeft) {
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

TEST(Retention, NegativeAgeIsRejected) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_EQ(store->ApplyRetention({.report_max_age_nanos = -1}, 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fscanary::store
