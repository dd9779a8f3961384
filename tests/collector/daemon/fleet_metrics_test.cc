// The fleet as Prometheus sees it: per-host series built from the store at
// each scrape, the aggregates by attribute and the top suspects.
#include "collector/daemon/fleet_metrics.h"

#include <gtest/gtest.h>

#include <optional>

#include "collector/knownbugs/known_bugs.h"
#include "metrics/exposition_check.h"
#include "metrics/text_format.h"
#include "tests/collector/daemon/metric_values.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::OpenStore;
using store::testing::ReportRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1'800'000'000 * kSecond;

using testing::SeriesCount;
using testing::Value;

class FleetMetricsTest : public ::testing::Test {
 protected:
  FleetMetricsTest() : store_(OpenStore(dir_)) {}

  FleetMetrics Metrics() {
    return FleetMetrics(*store_, sessions_,
                        {.host_expiry_nanos = 3600 * kSecond,
                         .stale_after_nanos = 600 * kSecond,
                         .now_unix_nanos = [this] { return now_; }});
  }
  // The host said hello on a stream that is closed again: only sessions_
  // (this collector's streams) say whether it is up.
  void Hello(const std::string& agent_id, int64_t at, const std::string& scheduler = "none") {
    ASSERT_TRUE(
        store_->RecordHello(agent_id, HelloMessage(VmFacts("4.19.2", scheduler), at), at).ok());
    ASSERT_TRUE(store_->SetConnected(agent_id, false, at).ok());
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Sessions sessions_;
  int64_t now_ = kNow;
};

TEST_F(FleetMetricsTest, AHostIsExportedAtZeroFindingsFromItsFirstHello) {
  Hello("vm-1", kNow);
  sessions_.Open("vm-1", 0, 0);
  const auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "vm-1"}}), 0.0);
  EXPECT_EQ(Value(families, "fscanary_host_last_finding_timestamp_seconds", {{"host", "vm-1"}}),
            0.0);
  EXPECT_EQ(Value(families, "fscanary_host_up", {{"host", "vm-1"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_agents_connected", {}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_hosts", {}), 1.0);
}

TEST_F(FleetMetricsTest, AFindingRaisesTheHostsCounterWithItsReceiptTime) {
  Hello("vm-1", kNow);
  Ingest(*store_, "vm-1", {FindingRecord(1, kNow - 5 * kSecond)}, kNow - 2 * kSecond);
  const auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "vm-1"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_host_last_finding_timestamp_seconds", {{"host", "vm-1"}}),
            double(kNow - 2 * kSecond) / 1e9);
}

TEST_F(FleetMetricsTest, ErrorsTheSystemReportedItselfAreNotCorruptionFindings) {
  Hello("vm-1", kNow);
  Ingest(*store_, "vm-1", {FindingRecord(1, kNow, v1::IO_ERROR)}, kNow);
  EXPECT_EQ(Value(Metrics().Collect(), "fscanary_host_findings_total", {{"host", "vm-1"}}), 0.0);
}

TEST_F(FleetMetricsTest, AKernelLogFindingAfterACorruptionLeavesThePagedSeriesWhereTheyWere) {
  Hello("vm-1", kNow);
  Ingest(*store_, "vm-1", {FindingRecord(1, kNow - 600 * kSecond)}, kNow - 590 * kSecond);
  Ingest(*store_, "vm-1", {FindingRecord(2, kNow - 5 * kSecond, v1::KERNEL_REPORTED)},
         kNow - 2 * kSecond);
  const auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "vm-1"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_host_last_finding_timestamp_seconds", {{"host", "vm-1"}}),
            double(kNow - 590 * kSecond) / 1e9)
      << "the corruption's receipt time, not the kernel-log finding's";
}

// A checker that keeps failing verifies nothing: its host must not look clean.
TEST_F(FleetMetricsTest, AFailingCheckerIsExportedPerHostCheckerAndTarget) {
  Hello("vm-1", kNow);
  v1::AgentMessage report = ReportRecord(1, kNow - 5 * kSecond, 0);
  v1::CheckerInterval& block = *report.mutable_report()->mutable_checkers(0);
  block.set_target("scratch");
  block.set_consecutive_failures(3);
  block.set_failed_steps(3);
  block.set_last_error("open /dev/vdb: No such device");
  v1::CheckerInterval& page_cache = *report.mutable_report()->add_checkers();
  page_cache.set_checker("page_cache");
  page_cache.set_target("rootfs");
  Ingest(*store_, "vm-1", {report}, kNow - 2 * kSecond);
  const auto families = Metrics().Collect();
  const metrics::Labels failing = {{"host", "vm-1"}, {"checker", "block"}, {"target", "scratch"}};
  const metrics::Labels healthy = {
      {"host", "vm-1"}, {"checker", "page_cache"}, {"target", "rootfs"}};
  EXPECT_EQ(Value(families, "fscanary_host_checker_failing", failing), 1.0);
  EXPECT_EQ(Value(families, "fscanary_host_checker_failed_steps_total", failing), 3.0);
  EXPECT_EQ(Value(families, "fscanary_host_checker_failing", healthy), 0.0);
  EXPECT_EQ(Value(families, "fscanary_host_checker_failed_steps_total", healthy), 0.0);
}

TEST_F(FleetMetricsTest, UpIsTheFleetsViewOfOpenStreams) {
  Hello("vm-1", kNow);
  EXPECT_EQ(Value(Metrics().Collect(), "fscanary_host_up", {{"host", "vm-1"}}), 0.0)
      << "no stream is open on any collector";
  sessions_.Open("vm-1", 7, 700);
  auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_host_up", {{"host", "vm-1"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_host_spool_records", {{"host", "vm-1"}}), 7.0);
  sessions_.Close("vm-1");
  EXPECT_EQ(Value(Metrics().Collect(), "fscanary_host_up", {{"host", "vm-1"}}), 0.0);
  // A stream open on another collector sharing the store (the store counts
  // it; this collector's sessions do not hold it).
  ASSERT_TRUE(store_->RecordHello("vm-1", HelloMessage(VmFacts(), kNow), kNow).ok());
  EXPECT_EQ(Value(Metrics().Collect(), "fscanary_host_up", {{"host", "vm-1"}}), 1.0)
      << "connected through another collector";
}

TEST_F(FleetMetricsTest, ASilentHostIsStaleThenExpires) {
  Hello("vm-1", kNow);
  now_ = kNow + 601 * kSecond;
  auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_agents_stale", {}), 1.0);
  EXPECT_EQ(SeriesCount(families, "fscanary_host_up"), 1u);
  now_ = kNow + 3601 * kSecond;
  families = Metrics().Collect();
  EXPECT_EQ(SeriesCount(families, "fscanary_host_up"), 0u) << "expired hosts disappear";
  EXPECT_EQ(SeriesCount(families, "fscanary_host_findings_total"), 0u);
  EXPECT_EQ(Value(families, "fscanary_hosts", {}), 0.0);
}

TEST_F(FleetMetricsTest, ARestartedCollectorExportsTheSameCountsFromTheStore) {
  Hello("vm-1", kNow);
  Ingest(*store_, "vm-1", {FindingRecord(1, kNow), FindingRecord(2, kNow)}, kNow);
  const std::optional<double> before =
      Value(Metrics().Collect(), "fscanary_host_findings_total", {{"host", "vm-1"}});
  store_.reset();
  store_ = OpenStore(dir_);
  Sessions fresh_sessions;
  FleetMetrics restarted(*store_, fresh_sessions, {.now_unix_nanos = [] { return kNow; }});
  EXPECT_EQ(Value(restarted.Collect(), "fscanary_host_findings_total", {{"host", "vm-1"}}), before);
  EXPECT_EQ(before, 2.0);
}

TEST_F(FleetMetricsTest, HostsBeyondTheLimitFoldIntoOtherWhereTheirFindingsStillCount) {
  // Known longest first: vm-2 and vm-3 keep their names, vm-1 and vm-4 do not.
  Hello("vm-2", kNow - 40 * kSecond);
  Hello("vm-3", kNow - 30 * kSecond);
  Hello("vm-1", kNow - 20 * kSecond);
  Hello("vm-4", kNow - 10 * kSecond);
  Ingest(*store_, "vm-1", {FindingRecord(1, kNow - 5 * kSecond)}, kNow - 4 * kSecond);
  Ingest(*store_, "vm-4", {FindingRecord(1, kNow - 3 * kSecond)}, kNow - 2 * kSecond);
  sessions_.Open("vm-4", 0, 0);
  FleetMetrics fleet(*store_, sessions_,
                     {.labels = {.max_hosts = 2}, .now_unix_nanos = [] { return kNow; }});
  const auto families = fleet.Collect();
  EXPECT_EQ(SeriesCount(families, "fscanary_host_up"), 3u);
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "vm-2"}}), 0.0);
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "vm-3"}}), 0.0);
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "other"}}), 2.0);
  EXPECT_EQ(Value(families, "fscanary_host_last_finding_timestamp_seconds", {{"host", "other"}}),
            double(kNow - 2 * kSecond) / 1e9)
      << "the newest of the folded hosts";
  EXPECT_EQ(Value(families, "fscanary_host_up", {{"host", "other"}}), 0.0)
      << "up only if every folded host is";
  EXPECT_EQ(Value(families, "fscanary_hosts", {}), 4.0);
  EXPECT_EQ(Value(families, "fscanary_collector_label_values_folded", {{"label", "host"}}), 2.0);
  EXPECT_EQ(Value(families, "fscanary_collector_label_values_folded", {{"label", "kernel"}}), 0.0);
}

TEST_F(FleetMetricsTest, AttributeValuesBeyondTheLimitOrMalformedAreOther) {
  ASSERT_TRUE(store_->RecordHello("vm-1", HelloMessage(VmFacts("6.1.0-a"), kNow), kNow).ok());
  ASSERT_TRUE(store_->RecordHello("vm-2", HelloMessage(VmFacts("6.1.0-a"), kNow), kNow).ok());
  ASSERT_TRUE(store_->RecordHello("vm-3", HelloMessage(VmFacts("6.1.0-b"), kNow), kNow).ok());
  ASSERT_TRUE(
      store_->RecordHello("vm-4", HelloMessage(VmFacts(std::string(300, 'k')), kNow), kNow).ok());
  ASSERT_TRUE(store_->RecordHello("vm-5", HelloMessage(VmFacts("6.1.0\"}"), kNow), kNow).ok());
  Ingest(*store_, "vm-3", {ReportRecord(1, kNow, 4096)}, kNow);
  Ingest(*store_, "vm-4", {ReportRecord(1, kNow, 8192)}, kNow);
  FleetMetrics fleet(*store_, sessions_,
                     {.labels = {.max_values = 1}, .now_unix_nanos = [] { return kNow; }});
  ASSERT_TRUE(fleet.Refresh().ok());
  const auto families = fleet.Collect();
  const metrics::Labels other = {{"kernel", "other"},
                                 {"blk_mq", "on"},
                                 {"scheduler", "mq-deadline"},
                                 {"driver", "virtio_blk"},
                                 {"fs", "ext4"}};
  EXPECT_EQ(Value(families, "fscanary_verified_bytes_total", other), 4096.0 + 8192.0);
  EXPECT_EQ(SeriesCount(families, "fscanary_verified_bytes_total"), 2u) << "6.1.0-a and other";
  EXPECT_EQ(Value(families, "fscanary_collector_label_values_folded", {{"label", "kernel"}}), 3.0);
}

TEST_F(FleetMetricsTest, HostInfoCarriesTheCurrentEpochsAttributes) {
  Hello("vm-1", kNow, "mq-deadline");
  const auto families = Metrics().Collect();
  EXPECT_EQ(Value(families, "fscanary_host_info",
                  {{"host", "vm-1"},
                   {"kernel", "4.19.2"},
                   {"blk_mq", "on"},
                   {"scheduler", "mq-deadline"},
                   {"driver", "virtio_blk"},
                   {"fs", "ext4"},
                   {"distro", "debian 12"},
                   {"virtualization", "kvm"},
                   {"agent_version", "0.1.0"}}),
            1.0);
}

TEST_F(FleetMetricsTest, AggregatesSumBytesAndFindingsByAttributesNotByHost) {
  for (const std::string host : {"vm-1", "vm-2"}) {
    Hello(host, kNow);
    Ingest(*store_, host, {ReportRecord(1, kNow, 4096)}, kNow);
  }
  Ingest(*store_, "vm-2", {FindingRecord(2, kNow)}, kNow);
  FleetMetrics fleet = Metrics();
  EXPECT_TRUE(fleet.AggregatesBehind());
  ASSERT_TRUE(fleet.Refresh().ok());
  const auto families = fleet.Collect();
  const metrics::Labels attributes = {{"kernel", "4.19.2"},
                                      {"blk_mq", "on"},
                                      {"scheduler", "none"},
                                      {"driver", "virtio_blk"},
                                      {"fs", "ext4"}};
  EXPECT_EQ(Value(families, "fscanary_verified_bytes_total", attributes), 8192.0);
  metrics::Labels with_kind = attributes;
  with_kind["kind"] = "checksum_mismatch";
  EXPECT_EQ(Value(families, "fscanary_findings_total", with_kind), 1.0);
  EXPECT_FALSE(fleet.AggregatesBehind());
}

TEST_F(FleetMetricsTest, TheExpositionIsWellFormed) {
  Hello("vm-\"quoted\"\\1", kNow);
  Ingest(*store_, "vm-\"quoted\"\\1", {FindingRecord(1, kNow), ReportRecord(2, kNow, 1)}, kNow);
  FleetMetrics fleet = Metrics();
  ASSERT_TRUE(fleet.Refresh().ok());
  const metrics::TextExposition exposition = metrics::SerializeText(fleet.Collect());
  EXPECT_TRUE(exposition.problems.empty());
  EXPECT_TRUE(metrics::CheckTextExposition(exposition.text).ok())
      << metrics::CheckTextExposition(exposition.text) << "\n"
      << exposition.text;
}

TEST(FleetAggregates, TheTopSuspectIsExportedWithItsAttributes) {
  // 40 hosts; corruptions only on those with scheduler=none.
  std::vector<store::EpochRecord> epochs;
  for (int i = 0; i < 40; ++i) {
    store::EpochRecord& epoch = epochs.emplace_back();
    epoch.agent_id = "vm-" + std::to_string(i);
    epoch.epoch = 1;
    epoch.facts = VmFacts("6.1.0", i % 4 == 0 ? "none" : "mq-deadline");
    epoch.kernel_config = std::make_shared<store::KernelConfig>();
    epoch.exposure.bytes_verified = uint64_t{1} << 40;
    epoch.exposure.observed_nanos = 86400 * kSecond;
    if (i % 4 == 0) epoch.findings_by_kind[v1::CHECKSUM_MISMATCH] = 3;
  }
  const absl::StatusOr<FleetAggregates> aggregates = ComputeFleetAggregates(epochs, 5);
  ASSERT_TRUE(aggregates.ok()) << aggregates.status();
  EXPECT_EQ(aggregates->corruption_findings, 30u);
  const std::optional<double> events = Value(aggregates->families, "fscanary_suspect_events",
                                             {{"rank", "1"}, {"attributes", "scheduler=none"}});
  EXPECT_EQ(events, 30.0);
  EXPECT_GT(*Value(aggregates->families, "fscanary_suspect_ci_low",
                   {{"rank", "1"}, {"attributes", "scheduler=none"}}),
            1.0);
}

// Before any corruption: every known bug of the table has both series, and
// a host on an affected configuration counts where it belongs.
TEST(FleetAggregates, HostsOnKnownCorruptionBugsAreCountedPerBugAndVerdict) {
  std::vector<store::EpochRecord> epochs;
  for (int i = 0; i < 3; ++i) {
    store::EpochRecord& epoch = epochs.emplace_back();
    epoch.agent_id = "vm-" + std::to_string(i);
    epoch.epoch = 1;
    epoch.facts = VmFacts(i < 2 ? "5.2.14" : "5.2.15");
    epoch.facts.mutable_filesystems(0)->set_fs_type("btrfs");
    epoch.kernel_config = std::make_shared<store::KernelConfig>();
  }
  const absl::StatusOr<FleetAggregates> aggregates = ComputeFleetAggregates(epochs, 5);
  ASSERT_TRUE(aggregates.ok()) << aggregates.status();
  EXPECT_EQ(Value(aggregates->families, "fscanary_known_bug_hosts",
                  {{"bug", "btrfs-5.2-unwritten-extent-buffers"}, {"verdict", "affected"}}),
            2.0);
  EXPECT_EQ(Value(aggregates->families, "fscanary_known_bug_hosts",
                  {{"bug", "blk-mq-direct-issue-merge"}, {"verdict", "affected"}}),
            0.0);
  EXPECT_EQ(SeriesCount(aggregates->families, "fscanary_known_bug_hosts"),
            2 * knownbugs::KnownBugs().size());
}

}  // namespace
}  // namespace fscanary::collector
