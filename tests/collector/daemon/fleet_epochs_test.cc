// The fleet's epochs kept up to date from what changed: after any series of
// ingests, retention and restarts they are what a full read returns, and a
// refresh reads only the hosts that changed.
#include "collector/daemon/fleet_epochs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "collector/daemon/fleet_metrics.h"
#include "metrics/text_format.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

using store::testing::FactsRecord;
using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::OpenStore;
using store::testing::ReportRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86400 * kSecond;

// Everything an epoch record holds, as one comparable string.
std::string Describe(const store::EpochRecord& epoch) {
  std::vector<std::string> config;
  for (const auto& [option, value] : *epoch.kernel_config) config.push_back(option + "=" + value);
  std::sort(config.begin(), config.end());
  std::string findings;
  for (const auto& [kind, count] : epoch.findings_by_kind)
    absl::StrAppend(&findings, kind, ":", count, ",");
  return absl::StrCat(
      epoch.agent_id, "#", epoch.epoch, " [", epoch.start_unix_nanos, ",", epoch.end_unix_nanos,
      "] facts=", epoch.facts.ShortDebugString(), " config=", absl::StrJoin(config, ","),
      " verified=", epoch.exposure.bytes_verified, " blocks=", epoch.exposure.blocks_verified,
      " written=", epoch.exposure.bytes_written, " io=", epoch.exposure.io_errors,
      " observed=", epoch.exposure.observed_nanos, " reports=", epoch.exposure.reports,
      " findings=", findings, " corruption=", epoch.corruption_findings,
      " stands_for=", epoch.stands_for);
}

std::vector<std::string> Describe(const std::vector<store::EpochRecord>& epochs) {
  std::vector<std::string> described;
  for (const store::EpochRecord& epoch : epochs) described.push_back(Describe(epoch));
  return described;
}

class FleetEpochsTest : public ::testing::Test {
 protected:
  FleetEpochsTest() : store_(OpenStore(dir_)) {}

  FleetEpochsOptions Options() {
    return {.now_unix_nanos = [this] { return now_; }};
  }
  // A record of `host` stored now (its next sequence), created now.
  void Store(const std::string& host, v1::AgentMessage message) {
    message.set_sequence(++sequences_[host]);
    Ingest(*store_, host, {message}, now_);
  }
  void Hello(const std::string& host, const std::string& kernel) {
    ASSERT_TRUE(store_->RecordHello(host, HelloMessage(VmFacts(kernel), now_), now_).ok());
  }
  std::vector<std::string> Full() { return Describe(*store_->ListEpochs()); }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Sessions sessions_;
  std::map<std::string, uint64_t> sequences_;
  int64_t now_ = 1 * kDay;
};

TEST_F(FleetEpochsTest, ARefreshReadsOnlyTheHostsThatChanged) {
  for (int i = 0; i < 6; ++i) {
    Hello("vm-" + std::to_string(i), "6.1.0");
    Store("vm-" + std::to_string(i), ReportRecord(0, now_, 4096));
  }
  FleetEpochs epochs(Options());
  now_ += 50 * kSecond;
  const absl::StatusOr<FleetEpochsRead> first = epochs.Refresh(*store_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->full);
  EXPECT_EQ(first->epochs, 6u);

  now_ += 50 * kSecond;
  Store("vm-1", ReportRecord(0, now_, 4096));
  Store("vm-2", FindingRecord(0, now_));
  Store("vm-3", FactsRecord(0, now_, VmFacts("6.6.0")));
  now_ += 15 * kSecond;  // beyond the overlap, so the next refresh asks from after them
  const absl::StatusOr<FleetEpochsRead> second = epochs.Refresh(*store_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(second->full);
  EXPECT_EQ(second->hosts, 3u);
  EXPECT_EQ(second->epochs, 4u) << "vm-3 has two epochs now";
  EXPECT_EQ(Describe(epochs.epochs()), Full());

  now_ += 30 * kSecond;
  Store("vm-5", ReportRecord(0, now_, 1));  // one host, reporting
  const absl::StatusOr<FleetEpochsRead> third = epochs.Refresh(*store_);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->hosts, 1u);
  EXPECT_EQ(Describe(epochs.epochs()), Full());
}

TEST_F(FleetEpochsTest, AfterIngestsRetentionAndRestartsTheyAreWhatAFullReadReturns) {
  FleetEpochs epochs(Options());
  // FleetMetrics holds the store it reads: made again when the store is.
  std::optional<FleetMetrics> metrics;
  metrics.emplace(*store_, sessions_,
                  FleetMetricsOptions{.now_unix_nanos = [this] { return now_; }});
  auto check = [&](const std::string& step) {
    const absl::StatusOr<FleetEpochsRead> read = epochs.Refresh(*store_);
    ASSERT_TRUE(read.ok()) << step << ": " << read.status();
    EXPECT_EQ(Describe(epochs.epochs()), Full()) << step;
    ASSERT_TRUE(metrics->Refresh().ok()) << step;
    const absl::StatusOr<FleetAggregates> full = ComputeFleetAggregates(*store_->ListEpochs(), 10);
    ASSERT_TRUE(full.ok()) << step;
    // The aggregates are the same families as a full recomputation's.
    const std::string served = metrics::SerializeText(metrics->Collect()).text;
    for (const metrics::MetricFamily& family : full->families) {
      const std::string text = metrics::SerializeText({family}).text;
      EXPECT_NE(served.find(text), std::string::npos) << step << ": " << family.name;
    }
  };
  for (int i = 0; i < 5; ++i) {
    Hello("vm-" + std::to_string(i), "6.1.0");
    Store("vm-" + std::to_string(i), ReportRecord(0, now_, 4096));
  }
  check("first read");
  // vm-0 flips between kernels: closed epochs of the same facts, which
  // retention folds into one later.
  for (const char* kernel : {"6.6.0", "6.1.0", "6.6.0"}) {
    now_ += kSecond;
    Store("vm-0", FactsRecord(0, now_, VmFacts(kernel)));
    Store("vm-0", ReportRecord(0, now_, 8192));
  }
  now_ += kSecond;
  Store("vm-2", FindingRecord(0, now_));
  Store("vm-3", ReportRecord(0, now_, 1 << 20));
  check("new epochs, a finding, reports");

  now_ += 40 * kDay;
  const absl::StatusOr<store::RetentionResult> retained = store_->ApplyRetention(
      {.report_max_age_nanos = 7 * kDay, .epoch_max_age_nanos = 30 * kDay}, now_);
  ASSERT_TRUE(retained.ok()) << retained.status();
  ASSERT_GT(retained->epochs_merged, 0u) << "the test must exercise a roll-up";
  now_ += kSecond;
  check("after retention");

  // The collector restarts on the same database: a new reader starts with a
  // full read, the old one goes on from its copy.
  metrics.reset();
  store_.reset();
  store_ = OpenStore(dir_);
  metrics.emplace(*store_, sessions_,
                  FleetMetricsOptions{.now_unix_nanos = [this] { return now_; }});
  now_ += kSecond;
  Hello("vm-4", "6.6.0");
  Store("vm-4", ReportRecord(0, now_, 4096));
  Store("vm-1", FindingRecord(0, now_, v1::LOST_WRITE));
  now_ += kSecond;
  check("after a restart");
  FleetEpochs restarted(Options());
  ASSERT_TRUE(restarted.Refresh(*store_).ok());
  EXPECT_EQ(Describe(restarted.epochs()), Describe(epochs.epochs()));
}

TEST_F(FleetEpochsTest, NothingChangedReadsNothing) {
  Hello("vm-0", "6.1.0");
  FleetEpochs epochs(Options());
  now_ += 60 * kSecond;
  ASSERT_TRUE(epochs.Refresh(*store_).ok());
  now_ += 60 * kSecond;
  const absl::StatusOr<FleetEpochsRead> read = epochs.Refresh(*store_);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->hosts, 0u);
  EXPECT_EQ(read->epochs, 0u);
  EXPECT_EQ(Describe(epochs.epochs()), Full());
}

TEST_F(FleetEpochsTest, AFindingCommittedLaterThanTheOverlapIsCaughtByTheNextFullRead) {
  Hello("vm-1", "6.1.0");
  Store("vm-1", ReportRecord(0, now_, 4096));
  FleetMetrics metrics(*store_, sessions_,
                       FleetMetricsOptions{.now_unix_nanos = [this] { return now_; }});
  ASSERT_TRUE(metrics.Refresh().ok());
  now_ += 60 * kSecond;
  ASSERT_TRUE(metrics.Refresh().ok());
  // Received (and stamped) a minute ago, committed now: older than the
  // overlap of the incremental read.
  v1::AgentMessage late = FindingRecord(0, now_ - 60 * kSecond);
  late.set_sequence(++sequences_["vm-1"]);
  Ingest(*store_, "vm-1", {late}, now_ - 60 * kSecond);
  metrics.Collect();  // the scrape sees the corruption
  ASSERT_TRUE(metrics.AggregatesBehind());
  ASSERT_TRUE(metrics.Refresh().ok());  // incremental: misses it
  ASSERT_TRUE(metrics.Refresh().ok());  // then everything
  EXPECT_FALSE(metrics.AggregatesBehind());
}

}  // namespace
}  // namespace fscanary::collector
