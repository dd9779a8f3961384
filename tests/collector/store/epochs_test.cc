// Host epochs: facts that matter start one, facts that do not leave it, and
// every record lands in the epoch it was created in.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::EpochsOf;
using testing::FactsRecord;
using testing::FindingRecord;
using testing::HelloMessage;
using testing::Ingest;
using testing::ReportRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;

class Epochs : public testing::BackendTest {};

TEST_P(Epochs, SameFactsKeepTheEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts(), 100 * kSecond)});
  // A reboot into the same state, renamed, ballooned: not a new epoch.
  v1::HostFacts same = VmFacts();
  same.set_boot_id("boot-2");
  same.set_hostname("vm-1-renamed");
  same.set_memory_bytes(uint64_t{8} << 30);
  Ingest(*store, "a", {HelloMessage(same, 200 * kSecond)});
  Ingest(*store, "a", {FactsRecord(1, 300 * kSecond, same)});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].start_unix_nanos, 100 * kSecond);
  EXPECT_EQ(epochs[0].end_unix_nanos, 0);
  // The epoch keeps the newest facts.
  EXPECT_EQ(epochs[0].facts.hostname(), "vm-1-renamed");
  EXPECT_EQ(store->GetHost("a")->host().hostname(), "vm-1-renamed");
}

TEST_P(Epochs, KernelUpgradeStartsANewEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17-amd64"), 100 * kSecond)});
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18-amd64"), 200 * kSecond)});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].epoch, 1u);
  EXPECT_EQ(epochs[0].facts.kernel_release(), "6.1.0-17-amd64");
  EXPECT_EQ(epochs[0].end_unix_nanos, 200 * kSecond);
  EXPECT_EQ(epochs[1].epoch, 2u);
  EXPECT_EQ(epochs[1].facts.kernel_release(), "6.1.0-18-amd64");
  EXPECT_EQ(epochs[1].start_unix_nanos, 200 * kSecond);
  EXPECT_EQ(epochs[1].end_unix_nanos, 0);
  EXPECT_EQ(store->GetHost("a")->host().kernel_release(), "6.1.0-18-amd64");
}

TEST_P(Epochs, SchedulerSwitchedAtRunTimeStartsANewEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1", "mq-deadline"), 100 * kSecond)});
  Ingest(*store, "a", {FactsRecord(1, 150 * kSecond, VmFacts("6.1", "none"))});
  EXPECT_EQ(EpochsOf(*store, "a").size(), 2u);
}

TEST_P(Epochs, ReportExposureLandsInTheEpochItWasCreatedIn) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  Ingest(*store, "a", {ReportRecord(1, 150 * kSecond, 1000)});
  Ingest(*store, "a", {FactsRecord(2, 200 * kSecond, VmFacts("6.1.0-18"))});
  Ingest(*store, "a", {ReportRecord(3, 250 * kSecond, 20), ReportRecord(4, 260 * kSecond, 30)});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 1000u);
  EXPECT_EQ(epochs[0].exposure.reports, 1u);
  EXPECT_EQ(epochs[0].exposure.observed_nanos, 10 * kSecond);
  EXPECT_EQ(epochs[1].exposure.bytes_verified, 50u);
  EXPECT_EQ(epochs[1].exposure.reports, 2u);
  EXPECT_EQ(store->GetHost("a")->host().bytes_verified(), 1050u);
}

TEST_P(Epochs, RecordSentLateLandsInItsOldEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 200 * kSecond)});
  // Spooled under the old kernel, sent after the reboot.
  Ingest(*store, "a", {FindingRecord(1, 150 * kSecond), ReportRecord(2, 160 * kSecond, 7)});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].corruption_findings, 1u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 7u);
  EXPECT_EQ(epochs[1].corruption_findings, 0u);
  EXPECT_EQ(store->ListFindings({})->findings(0).epoch(), 1u);
}

TEST_P(Epochs, OlderFactsResentLateAreIgnored) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 300 * kSecond)});
  Ingest(*store, "a", {FactsRecord(1, 200 * kSecond, VmFacts("6.1.0-17"))});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].facts.kernel_release(), "6.1.0-18");
  EXPECT_EQ(epochs[1].end_unix_nanos, 0);
}

TEST_P(Epochs, RecordsSentAheadOfNewerFactsMoveToTheNewEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  Ingest(*store, "a", {ReportRecord(1, 150 * kSecond, 1000)});
  // The spool sends findings first: these were created after the facts
  // record below, which arrives after them.
  Ingest(*store, "a", {FindingRecord(4, 250 * kSecond), ReportRecord(3, 240 * kSecond, 5)});
  Ingest(*store, "a", {FactsRecord(2, 200 * kSecond, VmFacts("6.1.0-18"))});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 1000u);
  EXPECT_EQ(epochs[0].exposure.reports, 1u);
  EXPECT_EQ(epochs[0].corruption_findings, 0u);
  EXPECT_EQ(epochs[1].exposure.bytes_verified, 5u);
  EXPECT_EQ(epochs[1].exposure.reports, 1u);
  EXPECT_EQ(epochs[1].corruption_findings, 1u);
  EXPECT_EQ(store->ListFindings({})->findings(0).epoch(), 2u);
}

TEST_P(Epochs, RecordsBeforeTheFirstFactsBelongToTheFirstEpoch) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  // Spooled while the collector was unreachable; the Hello comes later.
  Ingest(*store, "a", {ReportRecord(1, 50 * kSecond, 10)});
  Ingest(*store, "a", {HelloMessage(VmFacts(), 100 * kSecond)});
  Ingest(*store, "a", {FindingRecord(2, 60 * kSecond)});

  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].facts.kernel_release(), VmFacts().kernel_release());
  EXPECT_EQ(epochs[0].start_unix_nanos, 50 * kSecond);
  EXPECT_EQ(epochs[0].exposure.bytes_verified, 10u);
  EXPECT_EQ(epochs[0].corruption_findings, 1u);
}

TEST_P(Epochs, FindingsAreCountedByKindAndCorruption) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts(), 100 * kSecond)});
  Ingest(*store, "a",
         {FindingRecord(1, 110 * kSecond, v1::LOST_WRITE),
          FindingRecord(2, 111 * kSecond, v1::LOST_WRITE),
          FindingRecord(3, 112 * kSecond, v1::IO_ERROR)});
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 1u);
  EXPECT_EQ(epochs[0].findings_by_kind.at(v1::LOST_WRITE), 2u);
  EXPECT_EQ(epochs[0].findings_by_kind.at(v1::IO_ERROR), 1u);
  EXPECT_EQ(epochs[0].corruption_findings, 2u);
}

TEST_P(Epochs, HostsWithTheSameKernelConfigShareIt) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts(), 100 * kSecond)});
  Ingest(*store, "b", {HelloMessage(VmFacts(), 100 * kSecond)});
  absl::StatusOr<std::vector<EpochRecord>> epochs = store->ListEpochs();
  ASSERT_TRUE(epochs.ok()) << epochs.status();
  ASSERT_EQ(epochs->size(), 2u);
  EXPECT_EQ((*epochs)[0].kernel_config, (*epochs)[1].kernel_config);
  EXPECT_EQ((*epochs)[0].kernel_config->at("CONFIG_VIRTIO_BLK"), "m");
  EXPECT_EQ((*epochs)[0].kernel_config->size(), 3u);
  EXPECT_TRUE((*epochs)[0].facts.kernel_config().empty());
}

TEST_P(Epochs, AnAgentReusingAnotherHostsConfigHashCannotReplaceItsOptions) {
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  // First to the store: a host that claims b's config hash with other options.
  v1::HostFacts forged = VmFacts();
  (*forged.mutable_kernel_config())["CONFIG_VIRTIO_BLK"] = "n";
  Ingest(*store, "a", {HelloMessage(forged, 100 * kSecond)});
  Ingest(*store, "b", {HelloMessage(VmFacts(), 100 * kSecond)});
  const std::vector<EpochRecord> a = EpochsOf(*store, "a");
  const std::vector<EpochRecord> b = EpochsOf(*store, "b");
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].kernel_config->at("CONFIG_VIRTIO_BLK"), "m") << "b's own options";
  EXPECT_EQ(a[0].kernel_config->at("CONFIG_VIRTIO_BLK"), "n");
  EXPECT_EQ(b[0].facts.kernel_config_sha256(), VmFacts().kernel_config_sha256())
      << "the hash the agent reported stays a fact";
}

TEST_P(Epochs, AfterReopeningSameFactsStillKeepTheEpochAndNewOnesStartOne) {
  fscanary::testing::TempDir dir;
  {
    auto store = testing::OpenStore(dir);
    Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 100 * kSecond)});
  }
  auto store = testing::OpenStore(dir);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-17"), 200 * kSecond)});
  EXPECT_EQ(EpochsOf(*store, "a").size(), 1u);
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 300 * kSecond)});
  const std::vector<EpochRecord> epochs = EpochsOf(*store, "a");
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_EQ(epochs[1].epoch, 2u);
}

// The fleet metrics' refresh reads only the hosts whose epochs changed; a
// heartbeat changes none, retention rolling epochs up does.
TEST_P(Epochs, ChangedSinceNamesTheHostsARecordHelloOrRetentionChangedWithAllTheirEpochs) {
  constexpr int64_t kDay = 86'400 * kSecond;
  fscanary::testing::TempDir dir;
  auto store = testing::OpenStore(dir);
  for (const char* agent : {"a", "b", "c"}) {
    Ingest(*store, agent, {HelloMessage(VmFacts("6.1.0-17"), 1 * kDay)}, 1 * kDay);
  }
  Ingest(*store, "a", {HelloMessage(VmFacts("6.1.0-18"), 2 * kDay)}, 2 * kDay);
  Ingest(*store, "b", {ReportRecord(1, 2 * kDay, 4096)}, 2 * kDay + kSecond);
  ASSERT_TRUE(store->TouchHosts({{"c", 3 * kDay}}).ok());
  absl::StatusOr<EpochChanges> changes = store->ListEpochsChangedSince(2 * kDay);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(changes->agents, ::testing::ElementsAre("a", "b")) << "not c: a heartbeat";
  ASSERT_EQ(changes->epochs.size(), 3u);
  EXPECT_EQ(changes->epochs[0].agent_id, "a");
  EXPECT_EQ(changes->epochs[1].agent_id, "a");
  EXPECT_EQ(changes->epochs[1].facts.kernel_release(), "6.1.0-18");
  EXPECT_EQ(changes->epochs[2].exposure.bytes_verified, 4096u);
  EXPECT_TRUE(store->ListEpochsChangedSince(2 * kDay + 2 * kSecond)->agents.empty());

  ASSERT_TRUE(store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 40 * kDay).ok());
  changes = store->ListEpochsChangedSince(40 * kDay);
  ASSERT_TRUE(changes.ok()) << changes.status();
  EXPECT_THAT(changes->agents, ::testing::ElementsAre("a")) << "its closed epoch rolled up";
  ASSERT_EQ(changes->epochs.size(), 2u);
  EXPECT_EQ(changes->epochs[0].stands_for, 1u);
}

FSCANARY_ON_EVERY_BACKEND(Epochs);

}  // namespace
}  // namespace fscanary::store
