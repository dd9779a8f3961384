// Connected as the fleet's view: each store's stream rows count while its
// lease lasts; a store clears only its own rows; one that was forgotten while
// its lease had lapsed writes them back.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::HelloMessage;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kLease = 30 * kSecond;

// One clock for every store of a test, moved by the test.
class ManualClock {
 public:
  LivenessOptions For(const std::string& instance_id) {
    return {.instance_id = instance_id, .lease_nanos = kLease, .now_unix_nanos = [this] {
              return now_.load();
            }};
  }
  void Advance(int64_t nanos) { now_ += nanos; }

 private:
  std::atomic<int64_t> now_{1'000'000 * kSecond};
};

uint64_t Connected(Store& store) {
  absl::StatusOr<StoreStats> stats = store.GetStats();
  EXPECT_TRUE(stats.ok()) << stats.status();
  return stats.ok() ? stats->hosts_connected : 0;
}

bool HostConnected(Store& store, const std::string& agent_id) {
  absl::StatusOr<v1::GetHostResponse> host = store.GetHost(agent_id);
  EXPECT_TRUE(host.ok()) << host.status();
  return host.ok() && host->host().connected();
}

class Liveness : public testing::BackendTest {};
FSCANARY_ON_EVERY_BACKEND(Liveness);

TEST_P(Liveness, AStoreWhoseLeaseLapsedCountsNoStreamUntilItRenews) {
  fscanary::testing::TempDir dir;
  ManualClock clock;
  auto store = testing::OpenStore(dir, clock.For("a"));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->RecordHello("h", HelloMessage(VmFacts(), 1), 1).ok());
  EXPECT_EQ(Connected(*store), 1u);

  // The process stood still (or died) past its lease.
  clock.Advance(kLease + kSecond);
  EXPECT_EQ(Connected(*store), 0u);
  EXPECT_FALSE(HostConnected(*store, "h"));
  absl::StatusOr<std::vector<HostActivity>> activity = store->ListHostActivity();
  ASSERT_TRUE(activity.ok()) << activity.status();
  EXPECT_FALSE(activity->at(0).connected);

  ASSERT_TRUE(store->RenewLease().ok());
  EXPECT_EQ(Connected(*store), 1u);
  EXPECT_TRUE(HostConnected(*store, "h"));
}

TEST_P(Liveness, IngestOfAStoreNeverMarksAHostConnected) {
  fscanary::testing::TempDir dir;
  ManualClock clock;
  auto store = testing::OpenStore(dir, clock.For("a"));
  ASSERT_NE(store, nullptr);
  testing::Ingest(*store, "h", {testing::FindingRecord(1, kSecond)});
  EXPECT_EQ(Connected(*store), 0u);
}

// Several stores on one database: PostgreSQL only.
class SharedLiveness : public testing::BackendTest {
 protected:
  // A store of instance `instance` on the test's database, with a stream of
  // `agent` open on it (none when empty).
  std::unique_ptr<Store> Open(const std::string& instance, const std::string& agent = "") {
    std::unique_ptr<Store> store = testing::OpenStore(dir_, clock_.For(instance));
    EXPECT_NE(store, nullptr);
    if (store != nullptr && !agent.empty()) {
      EXPECT_TRUE(store->RecordHello(agent, HelloMessage(VmFacts(), 1), 1).ok());
    }
    return store;
  }

  fscanary::testing::TempDir dir_;
  ManualClock clock_;
};
INSTANTIATE_TEST_SUITE_P(, SharedLiveness, ::testing::Values(testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(SharedLiveness, AHostIsConnectedWhileAStreamIsOpenOnAnyStore) {
  auto a = Open("a", "h");
  auto b = Open("b");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(HostConnected(*b, "h"));
  // The agent moved to b before a noticed its old stream was gone.
  ASSERT_TRUE(b->RecordHello("h", HelloMessage(VmFacts(), 2), 2).ok());
  ASSERT_TRUE(a->SetConnected("h", false, 3).ok());
  EXPECT_TRUE(HostConnected(*a, "h"));
  ASSERT_TRUE(b->SetConnected("h", false, 4).ok());
  EXPECT_FALSE(HostConnected(*a, "h"));
}

TEST_P(SharedLiveness, AStoreOpeningClearsOnlyItsOwnStreams) {
  auto a = Open("a", "on-a");
  auto b = Open("b", "on-b");
  ASSERT_TRUE(a && b);
  // a restarts under the same instance id, its old rows left behind (killed
  // -9: no clean close; the old object stands for them here).
  auto restarted = Open("a");
  ASSERT_NE(restarted, nullptr);
  EXPECT_FALSE(HostConnected(*restarted, "on-a"));
  EXPECT_TRUE(HostConnected(*restarted, "on-b"));
  EXPECT_TRUE(HostConnected(*b, "on-b"));
}

TEST_P(SharedLiveness, ANewProcessLeavesOthersStreamsAlone) {
  // Instance ids made up at open: every process is new.
  auto a = testing::OpenStore(dir_);
  ASSERT_NE(a, nullptr);
  ASSERT_TRUE(a->RecordHello("h", HelloMessage(VmFacts(), 1), 1).ok());
  auto b = testing::OpenStore(dir_);
  ASSERT_NE(b, nullptr);
  EXPECT_NE(a->instance_id(), b->instance_id());
  EXPECT_TRUE(HostConnected(*b, "h"));
}

TEST_P(SharedLiveness, ADeadStoresStreamsStopCountingOnceItsLeaseLapses) {
  auto dead = Open("dead", "on-dead");
  auto live = Open("live", "on-live");
  ASSERT_TRUE(dead && live);
  EXPECT_EQ(Connected(*live), 2u);

  clock_.Advance(kLease / 2);
  ASSERT_TRUE(live->RenewLease().ok());
  EXPECT_EQ(Connected(*live), 2u);  // dead's lease still runs
  clock_.Advance(kLease / 2 + kSecond);
  ASSERT_TRUE(live->RenewLease().ok());
  EXPECT_FALSE(HostConnected(*live, "on-dead"));
  EXPECT_TRUE(HostConnected(*live, "on-live"));
}

TEST_P(SharedLiveness, AStoreForgottenWhileItsLeaseHadLapsedWritesItsStreamsBack) {
  auto paused = Open("paused", "h");
  auto other = Open("other");
  ASSERT_TRUE(paused && other);
  // Over a lease past the lapse: the other store forgets it.
  clock_.Advance(2 * kLease + kSecond);
  ASSERT_TRUE(other->RenewLease().ok());
  EXPECT_FALSE(HostConnected(*other, "h"));
  // The paused process runs again; its stream never closed.
  ASSERT_TRUE(paused->RenewLease().ok());
  EXPECT_TRUE(HostConnected(*other, "h"));
}

}  // namespace
}  // namespace fscanary::store
