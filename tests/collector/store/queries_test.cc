// What the operator's queries return.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using ::testing::ElementsAre;
using testing::FindingRecord;
using testing::HelloMessage;
using testing::Ingest;
using testing::ReportRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

std::vector<uint64_t> Sequences(const v1::ListFindingsResponse& response) {
  std::vector<uint64_t> sequences;
  for (const v1::StoredFinding& finding : response.findings()) {
    sequences.push_back(finding.sequence());
  }
  return sequences;
}

class ListHosts : public testing::BackendTest {};
class ListFindings : public testing::BackendTest {};
class GetHost : public testing::BackendTest {};
class GetStats : public testing::BackendTest {};

TEST_P(ListHosts, SummarisesEveryHostInAgentIdOrder) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  ASSERT_TRUE(
      store->RecordHello("b", HelloMessage(VmFacts("6.1.0-18"), 100 * kSecond, "0.2.0"), 1000)
          .ok());
  Ingest(*store, "b", {ReportRecord(1, 110 * kSecond, 4096), FindingRecord(2, 111 * kSecond)},
         2000);
  Ingest(*store, "a", {HelloMessage(VmFacts("5.10.0-28"), 100 * kSecond)}, 500);

  absl::StatusOr<v1::ListHostsResponse> hosts = store->ListHosts();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  ASSERT_EQ(hosts->hosts_size(), 2);
  EXPECT_EQ(hosts->hosts(0).agent_id(), "a");
  EXPECT_FALSE(hosts->hosts(0).connected());
  const v1::HostSummary& b = hosts->hosts(1);
  EXPECT_EQ(b.agent_id(), "b");
  EXPECT_EQ(b.hostname(), "vm-1");
  EXPECT_EQ(b.kernel_release(), "6.1.0-18");
  EXPECT_EQ(b.agent_version(), "0.2.0");
  EXPECT_EQ(b.first_seen_unix_nanos(), 1000);
  EXPECT_EQ(b.last_seen_unix_nanos(), 2000);
  EXPECT_TRUE(b.connected());
  EXPECT_EQ(b.findings(), 1u);
  EXPECT_EQ(b.bytes_verified(), 4096u);
  EXPECT_EQ(b.epochs(), 1u);
}

TEST_P(ListHosts, AHostStaysConnectedWhileAnyOfItsStreamsIsOpen) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  // A reconnect before the old stream noticed it was gone.
  ASSERT_TRUE(store->RecordHello("a", HelloMessage(VmFacts(), 1), 1).ok());
  ASSERT_TRUE(store->RecordHello("a", HelloMessage(VmFacts(), 2), 2).ok());
  ASSERT_TRUE(store->SetConnected("a", false, 3).ok());
  EXPECT_TRUE(store->ListHosts()->hosts(0).connected());
  ASSERT_TRUE(store->SetConnected("a", false, 4).ok());
  EXPECT_FALSE(store->ListHosts()->hosts(0).connected());
  EXPECT_EQ(store->ListHosts()->hosts(0).last_seen_unix_nanos(), 4);
}

TEST_P(ListHosts, NoHostIsConnectedAfterReopening) {
  fscanary::testing::TempDir dir;
  {
    auto store = testing::OpenStore(dir);
    ASSERT_TRUE(store->RecordHello("a", HelloMessage(VmFacts(), 1), 1).ok());
  }
  auto store = testing::OpenStore(dir);
  EXPECT_FALSE(store->ListHosts()->hosts(0).connected());
}

TEST_P(ListFindings, NewestFirstFilteredBySinceHostAndLimit) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {FindingRecord(1, kSecond)}, 100);
  Ingest(*store, "b", {FindingRecord(1, kSecond)}, 200);
  Ingest(*store, "a", {FindingRecord(2, kSecond), FindingRecord(3, kSecond)}, 300);

  absl::StatusOr<v1::ListFindingsResponse> all = store->ListFindings({});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->findings_size(), 4);
  EXPECT_EQ(all->findings(0).agent_id(), "a");
  EXPECT_EQ(all->findings(0).sequence(), 3u);
  EXPECT_EQ(all->findings(0).received_unix_nanos(), 300);
  EXPECT_EQ(all->findings(0).finding().evidence_summary(), "expected generation 7, found 6");
  EXPECT_EQ(all->findings(3).sequence(), 1u);

  v1::ListFindingsRequest request;
  request.set_since_unix_nanos(200);
  EXPECT_THAT(Sequences(*store->ListFindings(request)), ElementsAre(3, 2, 1));
  request.set_agent_id("a");
  EXPECT_THAT(Sequences(*store->ListFindings(request)), ElementsAre(3, 2));
  request.set_limit(1);
  EXPECT_THAT(Sequences(*store->ListFindings(request)), ElementsAre(3));
  request.set_agent_id("nobody");
  EXPECT_EQ(store->ListFindings(request)->findings_size(), 0);
}

TEST_P(GetHost, UnknownAgentIsNotFound) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  EXPECT_EQ(store->GetHost("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_P(GetHost, GivesEpochsWithFullFactsAndTheHostsFindings) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  Ingest(*store, "a", {FindingRecord(1, 150 * kSecond), ReportRecord(2, 160 * kSecond, 99)});
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 200 * kSecond)});
  Ingest(*store, "b", {FindingRecord(1, 150 * kSecond)});

  absl::StatusOr<v1::GetHostResponse> host = store->GetHost("a");
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->host().agent_id(), "a");
  EXPECT_EQ(host->host().epochs(), 2u);
  ASSERT_EQ(host->epochs_size(), 2);
  const v1::HostEpoch& first = host->epochs(0);
  EXPECT_EQ(first.epoch(), 1u);
  EXPECT_EQ(first.start_unix_nanos(), 100 * kSecond);
  EXPECT_EQ(first.end_unix_nanos(), 200 * kSecond);
  EXPECT_EQ(first.facts().kernel_release(), "6.1.0-17");
  EXPECT_EQ(first.facts().kernel_config().at("CONFIG_VIRTIO_BLK"), "m");
  EXPECT_EQ(first.facts().devices(0).scheduler(), "mq-deadline");
  EXPECT_EQ(first.bytes_verified(), 99u);
  EXPECT_EQ(first.findings(), 1u);
  EXPECT_EQ(host->epochs(1).findings(), 0u);
  ASSERT_EQ(host->findings_size(), 1);
  EXPECT_EQ(host->findings(0).agent_id(), "a");
  EXPECT_EQ(host->findings(0).epoch(), 1u);
}

TEST_P(GetStats, CountsHostsEpochsReportsAndFindingsByKind) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  ASSERT_TRUE(store->RecordHello("a", HelloMessage(VmFacts(), 100 * kSecond), 1).ok());
  Ingest(*store, "a",
         {ReportRecord(1, 110 * kSecond, 1), ReportRecord(2, 120 * kSecond, 1),
          FindingRecord(3, 130 * kSecond, v1::ZEROED)});
  Ingest(*store, "b", {FindingRecord(1, 130 * kSecond, v1::ZEROED)});
  absl::StatusOr<StoreStats> stats = store->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->hosts, 2u);
  EXPECT_EQ(stats->hosts_connected, 1u);
  EXPECT_EQ(stats->epochs, 2u);
  EXPECT_EQ(stats->reports, 2u);
  EXPECT_EQ(stats->findings_by_kind.at(v1::ZEROED), 2u);
  EXPECT_GT(stats->database_bytes, 0u);
}

FSCANARY_ON_EVERY_BACKEND(ListHosts);
FSCANARY_ON_EVERY_BACKEND(ListFindings);
FSCANARY_ON_EVERY_BACKEND(GetHost);
FSCANARY_ON_EVERY_BACKEND(GetStats);

}  // namespace
}  // namespace fscanary::store
