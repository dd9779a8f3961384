// ListHostActivity: the per-host state the fleet metrics read at every scrape.
#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using testing::HelloMessage;
using testing::Ingest;
using testing::OpenStore;
using testing::ReportRecord;
using testing::SpoolLossRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

const HostActivity* Find(const std::vector<HostActivity>& hosts, const std::string& agent_id) {
  for (const HostActivity& host : hosts) {
    if (host.agent_id == agent_id) return &host;
  }
  return nullptr;
}

class HostActivities : public testing::BackendTest {};

TEST_P(HostActivities, ANewHostHasNoFindingsAndHasNotVerified) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  ASSERT_TRUE(
      store->RecordHello("vm-1", HelloMessage(VmFacts(), 100 * kSecond), 100 * kSecond).ok());
  const absl::StatusOr<std::vector<HostActivity>> hosts = store->ListHostActivity();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  const HostActivity* host = Find(*hosts, "vm-1");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->agent_version, "0.1.0");
  EXPECT_EQ(host->last_seen_unix_nanos, 100 * kSecond);
  EXPECT_EQ(host->last_verified_unix_nanos, 0);
  EXPECT_TRUE(host->findings_by_kind.empty());
  EXPECT_EQ(host->last_corruption_received_unix_nanos, 0);
  EXPECT_EQ(host->facts.kernel_release(), "6.1.0-18-amd64");
  EXPECT_TRUE(host->facts.kernel_config().empty()) << "the options are not for scrapes";
}

TEST_P(HostActivities, LastVerifiedIsTheEndOfTheNewestReportThatVerifiedBytes) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {ReportRecord(1, 200 * kSecond, 4096)}, 201 * kSecond);
  Ingest(*store, "vm-1", {ReportRecord(2, 300 * kSecond, 0)}, 301 * kSecond);
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  EXPECT_EQ(Find(hosts, "vm-1")->last_verified_unix_nanos, 200 * kSecond)
      << "a report that verified nothing does not count";
}

TEST_P(HostActivities, AnAgentClockAheadOfTheCollectorDoesNotMoveLastVerifiedIntoTheFuture) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {ReportRecord(1, 5000 * kSecond, 4096)}, 400 * kSecond);
  EXPECT_EQ(Find(*store->ListHostActivity(), "vm-1")->last_verified_unix_nanos, 400 * kSecond);
}

TEST_P(HostActivities, FindingsAreCountedByKindWithTheNewestReceiptTime) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {FindingRecord(1, 10 * kSecond)}, 11 * kSecond);
  Ingest(*store, "vm-1", {FindingRecord(2, 12 * kSecond, v1::TORN_WRITE)}, 50 * kSecond);
  Ingest(*store, "vm-1", {FindingRecord(3, 13 * kSecond)}, 20 * kSecond);
  Ingest(*store, "vm-2", {ReportRecord(1, 10 * kSecond, 4096)}, 11 * kSecond);
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  const HostActivity* host = Find(hosts, "vm-1");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->findings_by_kind.at(v1::CHECKSUM_MISMATCH), 2u);
  EXPECT_EQ(host->findings_by_kind.at(v1::TORN_WRITE), 1u);
  EXPECT_EQ(host->last_corruption_received_unix_nanos, 50 * kSecond);
  EXPECT_TRUE(Find(hosts, "vm-2")->findings_by_kind.empty());
}

TEST_P(HostActivities, AFindingTheSystemReportedItselfDoesNotMoveTheNewestCorruptionTime) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {FindingRecord(1, 10 * kSecond, v1::MISDIRECTED_WRITE)}, 11 * kSecond);
  Ingest(*store, "vm-1", {FindingRecord(2, 90 * kSecond, v1::KERNEL_REPORTED)}, 91 * kSecond);
  Ingest(*store, "vm-1", {FindingRecord(3, 95 * kSecond, v1::IO_ERROR)}, 96 * kSecond);
  const absl::StatusOr<std::vector<HostActivity>> hosts = store->ListHostActivity();
  ASSERT_TRUE(hosts.ok()) << hosts.status();
  const HostActivity* host = Find(*hosts, "vm-1");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->findings_by_kind.at(v1::KERNEL_REPORTED), 1u) << "still counted by kind";
  EXPECT_EQ(host->last_corruption_received_unix_nanos, 11 * kSecond);
}

TEST_P(HostActivities, AHostWithOnlyKernelReportedFindingsHasNoCorruptionTime) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {FindingRecord(1, 10 * kSecond, v1::KERNEL_REPORTED)}, 11 * kSecond);
  EXPECT_EQ(Find(*store->ListHostActivity(), "vm-1")->last_corruption_received_unix_nanos, 0);
}

TEST_P(HostActivities, SpoolLossesAreSummedPerHost) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1", {SpoolLossRecord(1, kSecond, 2), SpoolLossRecord(2, kSecond, 5)});
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  const HostActivity* host = Find(hosts, "vm-1");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->spool_loss.findings_dropped(), 7u);
  EXPECT_EQ(host->spool_loss.reports_summarised(), 6u);
}

TEST_P(HostActivities, FactsAreThoseOfTheNewestEpoch) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1",
         {testing::FactsRecord(1, 10 * kSecond, VmFacts("6.1.0-18-amd64")),
          testing::FactsRecord(2, 20 * kSecond, VmFacts("6.1.0-21-amd64"))});
  EXPECT_EQ(Find(*store->ListHostActivity(), "vm-1")->facts.kernel_release(), "6.1.0-21-amd64");
}

// A report whose checkers carry the given health: {checker, target,
// consecutive failures, failed steps, last error}.
struct Health {
  std::string checker, target;
  uint32_t consecutive_failures;
  uint64_t failed_steps;
  std::string last_error;
};
v1::AgentMessage HealthReport(uint64_t sequence, int64_t created_ns,
                              const std::vector<Health>& checkers) {
  v1::AgentMessage message = ReportRecord(sequence, created_ns, 0);
  message.mutable_report()->clear_checkers();
  for (const Health& health : checkers) {
    v1::CheckerInterval& interval = *message.mutable_report()->add_checkers();
    interval.set_checker(health.checker);
    interval.set_target(health.target);
    interval.set_consecutive_failures(health.consecutive_failures);
    interval.set_failed_steps(health.failed_steps);
    interval.set_last_error(health.last_error);
  }
  return message;
}

TEST_P(HostActivities, CheckersAreAsTheNewestReportSaysWithFailedStepsSummed) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1",
         {HealthReport(1, 100 * kSecond,
                       {{"block", "scratch", 0, 0, ""}, {"page_cache", "rootfs", 0, 0, ""}})},
         101 * kSecond);
  Ingest(*store, "vm-1",
         {HealthReport(3, 300 * kSecond,
                       {{"block", "scratch", 4, 4, "open /dev/vdb: No such device"},
                        {"page_cache", "rootfs", 0, 0, ""}})},
         301 * kSecond);
  // An older report arriving late: its failed steps count, its state does not.
  Ingest(*store, "vm-1",
         {HealthReport(2, 200 * kSecond,
                       {{"block", "scratch", 0, 1, "read /dev/vdb: Input/output error"},
                        {"page_cache", "rootfs", 0, 0, ""}})},
         302 * kSecond);
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  const HostActivity* host = Find(hosts, "vm-1");
  ASSERT_NE(host, nullptr);
  ASSERT_EQ(host->checkers.size(), 2u);
  const CheckerHealth& block = host->checkers[0];
  EXPECT_EQ(block.checker, "block");
  EXPECT_EQ(block.target, "scratch");
  EXPECT_EQ(block.consecutive_failures, 4u);
  EXPECT_EQ(block.failed_steps, 5u);
  EXPECT_EQ(block.last_error, "open /dev/vdb: No such device");
  EXPECT_EQ(block.reported_unix_nanos, 300 * kSecond);
  EXPECT_EQ(block.last_healthy_unix_nanos, 100 * kSecond);
  EXPECT_EQ(host->checkers[1].consecutive_failures, 0u);
  EXPECT_EQ(host->checkers[1].last_healthy_unix_nanos, 300 * kSecond);

  // Healthy again, the message of the last failure kept; GetHost says the same.
  Ingest(*store, "vm-1",
         {HealthReport(4, 400 * kSecond,
                       {{"block", "scratch", 0, 0, ""}, {"page_cache", "rootfs", 0, 0, ""}})},
         401 * kSecond);
  const absl::StatusOr<v1::GetHostResponse> got = store->GetHost("vm-1");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->checkers_size(), 2);
  EXPECT_EQ(got->checkers(0).consecutive_failures(), 0u);
  EXPECT_EQ(got->checkers(0).failed_steps(), 5u);
  EXPECT_EQ(got->checkers(0).last_error(), "open /dev/vdb: No such device");
  EXPECT_EQ(got->checkers(0).last_healthy_unix_nanos(), 400 * kSecond);
}

TEST_P(HostActivities, ACheckerTheNewestReportNoLongerNamesIsDropped) {
  fscanary::testing::TempDir dir;
  auto store = OpenStore(dir);
  Ingest(*store, "vm-1",
         {HealthReport(1, 100 * kSecond,
                       {{"block", "old", 9, 9, "target gone"}, {"block", "new", 0, 0, ""}})},
         101 * kSecond);
  Ingest(*store, "vm-1", {HealthReport(2, 200 * kSecond, {{"block", "new", 0, 0, ""}})},
         201 * kSecond);
  const std::vector<HostActivity> hosts = *store->ListHostActivity();
  ASSERT_EQ(Find(hosts, "vm-1")->checkers.size(), 1u);
  EXPECT_EQ(Find(hosts, "vm-1")->checkers[0].target, "new");
}

FSCANARY_ON_EVERY_BACKEND(HostActivities);

}  // namespace
}  // namespace fscanary::store
