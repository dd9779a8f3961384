// Per-host series at fleet scale: only the hosts an operator must see by name
// keep them; every host is counted by attributes.
#include "collector/daemon/watched_hosts.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "collector/daemon/fleet_metrics.h"
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
using store::testing::SpoolLossRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1'800'000'000 * kSecond;

using testing::Value;

std::vector<std::string> HostsOf(const std::vector<metrics::MetricFamily>& families,
                                 const std::string& name) {
  std::vector<std::string> hosts;
  for (const metrics::MetricFamily& family : families) {
    if (family.name != name) continue;
    for (const metrics::Series& series : family.series) hosts.push_back(series.labels.at("host"));
  }
  return hosts;
}

size_t AllSeries(const std::vector<metrics::MetricFamily>& families) {
  size_t count = 0;
  for (const metrics::MetricFamily& family : families) count += family.series.size();
  return count;
}

class WatchedHostsTest : public ::testing::Test {
 protected:
  WatchedHostsTest() : store_(OpenStore(dir_)) {}

  FleetMetrics Metrics(size_t all_hosts_up_to = 0) {
    return FleetMetrics(
        *store_, sessions_,
        {.watch = {.all_hosts_up_to = all_hosts_up_to}, .now_unix_nanos = [] { return kNow; }});
  }
  // Clean hosts that registered just now and keep a stream open, in one
  // commit.
  void AddCleanHosts(int from, int count) {
    std::vector<std::string> ids;
    std::vector<std::vector<v1::AgentMessage>> messages;
    for (int i = from; i < from + count; ++i) {
      ids.push_back("clean-" + std::to_string(i));
      messages.push_back({HelloMessage(VmFacts(i % 2 == 0 ? "6.1.0" : "6.6.0"), kNow)});
    }
    std::vector<store::AgentBatch> batches;
    for (size_t i = 0; i < ids.size(); ++i) batches.push_back({ids[i], messages[i]});
    ASSERT_TRUE(store_->IngestBatches(batches, kNow).ok());
    for (const std::string& id : ids) sessions_.Open(id, 0, 0);
  }
  void Hello(const std::string& agent_id, int64_t at) {
    ASSERT_TRUE(store_->RecordHello(agent_id, HelloMessage(VmFacts("6.1.0"), at), at).ok());
  }
  // One of each kind of trouble, each on its own host.
  void AddVictims() {
    Hello("victim-finding", kNow - 60 * kSecond);
    Ingest(*store_, "victim-finding", {FindingRecord(1, kNow - 30 * kSecond)}, kNow - 20 * kSecond);
    sessions_.Open("victim-finding", 0, 0);
    Hello("victim-silent", kNow - 300 * kSecond);
    Hello("victim-spool-loss", kNow - 10 * kSecond);
    Ingest(*store_, "victim-spool-loss", {SpoolLossRecord(1, kNow - 5 * kSecond, 2)},
           kNow - 5 * kSecond);
    sessions_.Open("victim-spool-loss", 0, 0);
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  Sessions sessions_;
};

TEST_F(WatchedHostsTest, CleanHostsAreCountedByAttributesAndOnlyVictimsKeepTheirSeries) {
  AddCleanHosts(0, 40);
  AddVictims();
  const auto families = Metrics().Collect();
  const std::vector<std::string> victims = {"victim-finding", "victim-silent", "victim-spool-loss"};
  for (const char* name : {"fscanary_host_up", "fscanary_host_last_seen_timestamp_seconds",
                           "fscanary_host_findings_total",
                           "fscanary_host_last_finding_timestamp_seconds", "fscanary_host_info"}) {
    EXPECT_EQ(HostsOf(families, name), victims) << name;
  }
  EXPECT_EQ(Value(families, "fscanary_host_findings_total", {{"host", "victim-finding"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_host_spool_lost_records_total",
                  {{"host", "victim-spool-loss"}, {"what", "findings_dropped"}}),
            2.0);
  EXPECT_EQ(Value(families, "fscanary_hosts", {}), 43.0);
  metrics::Labels attributes = {{"kernel", "6.6.0"},
                                {"blk_mq", "on"},
                                {"scheduler", "mq-deadline"},
                                {"driver", "virtio_blk"},
                                {"fs", "ext4"},
                                {"distro", "debian 12"},
                                {"virtualization", "kvm"},
                                {"agent_version", "0.1.0"}};
  EXPECT_EQ(Value(families, "fscanary_hosts_by_attributes", attributes), 20.0);
  attributes["kernel"] = "6.1.0";
  EXPECT_EQ(Value(families, "fscanary_hosts_by_attributes", attributes), 23.0);
  EXPECT_EQ(Value(families, "fscanary_hosts_watched", {{"reason", "finding"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_hosts_watched", {{"reason", "silent"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_hosts_watched", {{"reason", "spool_loss"}}), 1.0);
  EXPECT_EQ(Value(families, "fscanary_hosts_watched", {{"reason", "small_fleet"}}), 0.0);
}

TEST_F(WatchedHostsTest, TheExpositionDoesNotGrowWithCleanHosts) {
  AddVictims();
  AddCleanHosts(0, 40);
  const size_t with_forty = AllSeries(Metrics().Collect());
  AddCleanHosts(40, 80);
  const std::vector<metrics::MetricFamily> with_hundred_twenty = Metrics().Collect();
  EXPECT_EQ(AllSeries(with_hundred_twenty), with_forty);
  EXPECT_EQ(Value(with_hundred_twenty, "fscanary_hosts", {}), 123.0);
  EXPECT_EQ(HostsOf(with_hundred_twenty, "fscanary_host_up").size(), 3u);
}

TEST_F(WatchedHostsTest, ASmallFleetKeepsEveryHostsSeries) {
  AddCleanHosts(0, 3);
  const auto families = Metrics(/*all_hosts_up_to=*/3).Collect();
  EXPECT_EQ(HostsOf(families, "fscanary_host_up").size(), 3u);
  EXPECT_EQ(Value(families, "fscanary_hosts_watched", {{"reason", "small_fleet"}}), 3.0);
  EXPECT_TRUE(HostsOf(Metrics(/*all_hosts_up_to=*/2).Collect(), "fscanary_host_up").empty());
}

// Each reason, and the clean case it must leave alone.
TEST(WhyWatched, ACleanReportingHostIsNotWatched) {
  const store::HostActivity host = {.agent_id = "vm",
                                    .first_seen_unix_nanos = kNow - 7200 * kSecond,
                                    .last_seen_unix_nanos = kNow - 10 * kSecond,
                                    .last_verified_unix_nanos = kNow - 600 * kSecond};
  const SessionState session = {.streams = 1, .spooled_records = 3};
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), 0u);
}

TEST(WhyWatched, EachTroubleIsItsOwnReason) {
  const store::HostActivity clean = {.agent_id = "vm",
                                     .first_seen_unix_nanos = kNow - 7200 * kSecond,
                                     .last_seen_unix_nanos = kNow - 10 * kSecond,
                                     .last_verified_unix_nanos = kNow - 600 * kSecond};
  const SessionState session = {.streams = 1};
  store::HostActivity host = clean;
  host.findings_by_kind[v1::IO_ERROR] = 4;
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), 0u) << "not a corruption";
  host.findings_by_kind[v1::LOST_WRITE] = 1;
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), kWatchFinding);
  host = clean;
  host.last_seen_unix_nanos = kNow - 121 * kSecond;
  EXPECT_EQ(WhyWatched(host, nullptr, false, kNow, {}), kWatchSilent);
  host = clean;
  host.last_verified_unix_nanos = kNow - 1801 * kSecond;
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), kWatchVerificationStalled);
  host.last_verified_unix_nanos = 0;
  host.first_seen_unix_nanos = kNow - 60 * kSecond;
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), 0u) << "new: nothing to verify yet";
  host = clean;
  host.checkers.push_back({.checker = "block", .target = "t0", .consecutive_failures = 1});
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), kWatchCheckerFailing);
  host = clean;
  host.spool_loss.set_damaged_records_skipped(1);
  EXPECT_EQ(WhyWatched(host, &session, true, kNow, {}), kWatchSpoolLoss);
  const SessionState backlog = {.streams = 1, .spooled_records = 11};
  EXPECT_EQ(WhyWatched(clean, &backlog, true, kNow, {}), kWatchSpoolBacklog);
}

}  // namespace
}  // namespace fscanary::collector
