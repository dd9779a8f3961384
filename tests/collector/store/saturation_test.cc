// Every sum the store keeps saturates at 2^63-1 instead of overflowing: an
// agent claiming huge numbers, again and again, neither fails commits nor
// breaks the queries and scrapes that read the sums.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using testing::Ingest;
using testing::kStored;
using testing::ReportRecord;
using testing::SpoolLossRecord;

constexpr int64_t kSecond = 1'000'000'000;
constexpr uint64_t kHuge = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kSaturated = std::numeric_limits<int64_t>::max();

// A report claims 2^53 at most once clamped, so 1024 of them reach 2^63.
constexpr uint64_t kRecords = 1100;
constexpr uint64_t kPerBatch = 100;

class Saturation : public testing::BackendTest {};

TEST_P(Saturation, HugeReportsAndSpoolLossesSaturateEverySum) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  uint64_t sequence = 0;
  for (uint64_t batch = 0; batch < kRecords / kPerBatch; ++batch) {
    std::vector<v1::AgentMessage> messages;
    for (uint64_t i = 0; i < kPerBatch; ++i) {
      ++sequence;
      messages.push_back(ReportRecord(sequence, 100 * kSecond, kHuge));
      v1::AgentMessage& report = messages.back();
      for (int checker = 0; checker < 3; ++checker) {
        v1::CheckerInterval& interval = *report.mutable_report()->add_checkers();
        interval.set_bytes_verified(kHuge);
        interval.set_bytes_written(kHuge);
        interval.set_blocks_verified(kHuge);
        interval.set_io_errors(kHuge);
      }
      ++sequence;
      messages.push_back(SpoolLossRecord(sequence, 100 * kSecond, kHuge));
      messages.back().mutable_spool_loss()->set_reports_dropped(kHuge);
    }
    for (const RecordResult::Outcome outcome : Ingest(*store, "greedy", messages)) {
      ASSERT_EQ(outcome, kStored) << "batch " << batch;
    }
  }
  // A finding after the sums saturated is still stored and counted.
  ++sequence;
  ASSERT_EQ(Ingest(*store, "greedy", {FindingRecord(sequence, 100 * kSecond)}).front(), kStored);

  const std::vector<EpochRecord> epochs = testing::EpochsOf(*store, "greedy");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, kSaturated);
  EXPECT_EQ(epochs[0].exposure.bytes_written, kSaturated);
  EXPECT_EQ(epochs[0].exposure.blocks_verified, kSaturated);
  EXPECT_EQ(epochs[0].exposure.io_errors, kSaturated);
  EXPECT_EQ(epochs[0].exposure.reports, kRecords);
  EXPECT_EQ(epochs[0].corruption_findings, 1u);

  const absl::StatusOr<v1::ListHostsResponse> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->hosts_size(), 1);
  EXPECT_EQ(hosts->hosts(0).bytes_verified(), kSaturated);
  EXPECT_EQ(hosts->hosts(0).findings(), 1u);

  const absl::StatusOr<std::vector<HostActivity>> activity = store->ListHostActivity();
  ASSERT_TRUE(activity.ok()) << activity.status();
  ASSERT_EQ(activity->size(), 1u);
  EXPECT_EQ((*activity)[0].spool_loss.findings_dropped(), kSaturated);
  EXPECT_EQ((*activity)[0].spool_loss.reports_dropped(), kSaturated);

  const absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->spool_loss.findings_dropped(), kSaturated);
}

FSCANARY_ON_EVERY_BACKEND(Saturation);

}  // namespace
}  // namespace fscanary::store
