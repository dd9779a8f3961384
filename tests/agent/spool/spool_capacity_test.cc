// A full spool gives up, in order: garbage, detail (summaries), routine
// records, and new findings last; every loss is counted.

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "agent/spool/spool.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/temp_dir.h"

namespace fscanary::spool {
namespace {

using ::fscanary::spool::testing::AllPending;
using ::fscanary::spool::testing::OpenOrDie;
using ::fscanary::spool::testing::ReportCount;
using ::fscanary::spool::testing::Reports;
using ::fscanary::spool::testing::Sequences;
using ::fscanary::spool::testing::SmallOptions;
using ::fscanary::testing::TempDir;
constexpr RecordClass kFinding = RecordClass::kFinding;
constexpr RecordClass kRoutine = RecordClass::kRoutine;

uint64_t PendingReports(Spool& spool) {
  uint64_t reports = 0;
  for (const Record& record : AllPending(spool)) {
    if (record.record_class == kRoutine) reports += ReportCount(record.payload);
  }
  return reports;
}

TEST(SpoolCapacity, FullSpoolSummarisesRoutineReportsAndKeepsEveryFinding) {
  TempDir dir;
  const SpoolOptions options = SmallOptions(dir.path());
  auto spool = OpenOrDie(options);
  uint64_t routine_reports = 0;
  std::vector<uint64_t> findings;
  for (int i = 0; i < 1000; ++i) {
    if (i % 50 == 0) {
      findings.push_back(*spool->Append(kFinding, std::string(200, 'f')));
    } else {
      ASSERT_TRUE(spool->Append(kRoutine, Reports(1, 200)).ok());
      ++routine_reports;
    }
    ASSERT_LE(spool->Stats().disk_bytes, options.max_bytes) << i;
  }
  const SpoolStats stats = spool->Stats();
  EXPECT_GT(stats.reports_summarised, 0u);
  EXPECT_EQ(stats.reports_dropped, 0u);
  EXPECT_EQ(stats.findings_dropped, 0u);
  EXPECT_EQ(PendingReports(*spool), routine_reports);
  // Findings first, then the summary and the reports that came after it.
  const std::vector<Record> pending = AllPending(*spool);
  ASSERT_GT(pending.size(), findings.size());
  EXPECT_EQ(Sequences({pending.begin(), pending.begin() + findings.size()}), findings);
}

TEST(SpoolCapacity, RecordsAlreadyHandedToTheSenderAreNotFoldedIntoASummary) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(spool->Append(kRoutine, Reports(1, 200)).ok());
  const std::vector<Record> in_flight = spool->Pending(3);
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(spool->Append(kRoutine, Reports(1, 200)).ok());
  ASSERT_GT(spool->Stats().reports_summarised, 0u);
  const std::vector<uint64_t> pending = Sequences(AllPending(*spool));
  for (const Record& record : in_flight) {
    EXPECT_TRUE(std::ranges::count(pending, record.sequence)) << record.sequence;
  }
  EXPECT_EQ(PendingReports(*spool), 510u);
}

TEST(SpoolCapacity, GarbageIsReclaimedBeforeAnythingIsSummarisedOrDropped) {
  TempDir dir;
  const SpoolOptions options = SmallOptions(dir.path());
  auto spool = OpenOrDie(options);
  std::vector<SequenceRange> routine;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(spool->Append(kFinding, std::string(400, 'f')).ok());
    const uint64_t sequence = *spool->Append(kRoutine, Reports(1, 400));
    routine.emplace_back(sequence, sequence);
  }
  // Every segment keeps some findings: none can simply be deleted.
  ASSERT_TRUE(spool->Acknowledge(routine).ok());
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(spool->Append(kFinding, std::string(400, 'f')).ok()) << i;
    ASSERT_LE(spool->Stats().disk_bytes, options.max_bytes);
  }
  const SpoolStats stats = spool->Stats();
  EXPECT_EQ(stats.findings, 110u);
  EXPECT_EQ(stats.reports_summarised + stats.reports_dropped + stats.findings_dropped, 0u);
}

TEST(SpoolCapacity, RoutineIsDroppedOldestFirstThenNewFindingsAreRefusedAndAllIsCounted) {
  TempDir dir;
  const SpoolOptions options = SmallOptions(dir.path());
  std::vector<uint64_t> routine;
  {
    auto spool = OpenOrDie(options);
    for (int i = 0; i < 40; ++i) routine.push_back(*spool->Append(kRoutine, Reports(1, 400)));
    // In flight on a stream: they may not be summarised, only dropped.
    ASSERT_EQ(spool->Pending(100).size(), 40u);

    std::vector<uint64_t> findings;
    absl::Status refused;
    for (int i = 0; i < 1000 && refused.ok(); ++i) {
      absl::StatusOr<uint64_t> appended = spool->Append(kFinding, std::string(400, 'f'));
      if (!appended.ok()) {
        refused = appended.status();
        break;
      }
      findings.push_back(*appended);
      ASSERT_LE(spool->Stats().disk_bytes, options.max_bytes);
      // What routine remains is always the newest: the oldest went first.
      std::vector<uint64_t> remaining;
      for (const Record& record : AllPending(*spool)) {
        if (record.record_class == kRoutine) remaining.push_back(record.sequence);
      }
      ASSERT_TRUE(std::equal(remaining.rbegin(), remaining.rend(), routine.rbegin()));
    }
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
    SpoolStats stats = spool->Stats();
    EXPECT_EQ(stats.routine, 0u);
    EXPECT_EQ(stats.reports_dropped, 40u);
    EXPECT_EQ(stats.findings_dropped, 1u);
    EXPECT_EQ(stats.reports_summarised, 0u);
    // Every finding accepted is still there.
    EXPECT_EQ(Sequences(AllPending(*spool)), findings);

    // Only findings left: a routine record cannot take their place either.
    EXPECT_EQ(spool->Append(kRoutine, Reports(1, 400)).status().code(),
              absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(spool->Stats().reports_dropped, 41u);
  }
  // The loss counters are persisted.
  auto spool = OpenOrDie(options);
  EXPECT_EQ(spool->Stats().reports_dropped, 41u);
  EXPECT_EQ(spool->Stats().findings_dropped, 1u);
}

TEST(SpoolCapacity, AcknowledgementMakesRoomAgainAfterARefusal) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  absl::StatusOr<uint64_t> appended;
  while ((appended = spool->Append(kFinding, std::string(400, 'f'))).ok()) {
  }
  ASSERT_EQ(appended.status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(spool->Acknowledge({{1, 10}}).ok());
  EXPECT_TRUE(spool->Append(kFinding, std::string(400, 'f')).ok());
}

}  // namespace
}  // namespace fscanary::spool
