// One leader at a time among the collectors sharing a store, handed over
// when the leader's session ends.

#include "collector/store/leader_lock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "tests/collector/store/store_test_support.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::store {
namespace {

StoreOptions PostgresStoreOptions() {
  return {.backend = StoreOptions::Backend::kPostgres, .postgres = {.dsn = testing::PostgresDsn()}};
}

bool Leads(LeaderLock& lock) {
  const absl::StatusOr<bool> polled = lock.Poll();
  return polled.ok() && *polled;
}

// The server ends a session (and lets its locks go) a moment after the
// client went: polls as a collector does, up to 30 s.
bool LeadsSoon(LeaderLock& lock) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!Leads(lock)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

class LeaderLockTest : public testing::BackendTest {};
INSTANTIATE_TEST_SUITE_P(, LeaderLockTest, ::testing::Values(testing::Backend::kPostgres),
                         testing::BackendName);

TEST(SqliteLeaderLock, TheOneCollectorAlwaysLeads) {
  std::unique_ptr<LeaderLock> lock = MakeLeaderLock({.sqlite = {.path = "/nonexistent/db"}});
  EXPECT_TRUE(Leads(*lock));
  EXPECT_TRUE(Leads(*lock));
}

TEST_P(LeaderLockTest, OnlyTheFirstToPollLeadsAndKeepsLeading) {
  fscanary::testing::TempDir dir;
  ASSERT_NE(testing::OpenStore(dir), nullptr);  // creates the database
  std::unique_ptr<LeaderLock> first = MakeLeaderLock(PostgresStoreOptions());
  std::unique_ptr<LeaderLock> second = MakeLeaderLock(PostgresStoreOptions());
  EXPECT_TRUE(Leads(*first));
  EXPECT_FALSE(Leads(*second));
  EXPECT_TRUE(Leads(*first));
  EXPECT_FALSE(Leads(*second));
}

TEST_P(LeaderLockTest, ALeaderThatGoesHandsOver) {
  fscanary::testing::TempDir dir;
  ASSERT_NE(testing::OpenStore(dir), nullptr);
  std::unique_ptr<LeaderLock> first = MakeLeaderLock(PostgresStoreOptions());
  std::unique_ptr<LeaderLock> second = MakeLeaderLock(PostgresStoreOptions());
  ASSERT_TRUE(Leads(*first));
  ASSERT_FALSE(Leads(*second));
  first.reset();  // its session ends
  EXPECT_TRUE(LeadsSoon(*second));
}

TEST_P(LeaderLockTest, ALeaderWhoseSessionWasEndedStopsLeadingAndAnotherTakesOver) {
  fscanary::testing::TempDir dir;
  ASSERT_NE(testing::OpenStore(dir), nullptr);
  std::unique_ptr<LeaderLock> first = MakeLeaderLock(PostgresStoreOptions());
  std::unique_ptr<LeaderLock> second = MakeLeaderLock(PostgresStoreOptions());
  ASSERT_TRUE(Leads(*first));
  // The leader's connection dies (a network cut, the server restarting it).
  absl::StatusOr<fscanary::testing::PostgresServer*> server =
      fscanary::testing::SharedPostgresServer();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)
                  ->Exec(testing::PostgresDsn(),
                         "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks "
                         "WHERE locktype = 'advisory' AND granted AND database = "
                         "(SELECT oid FROM pg_database WHERE datname = current_database())")
                  .ok());
  EXPECT_FALSE(Leads(*first));
  EXPECT_TRUE(LeadsSoon(*second));
  // Back, the old leader finds the lock taken.
  EXPECT_FALSE(Leads(*first));
  EXPECT_TRUE(Leads(*second));
}

}  // namespace
}  // namespace fscanary::store
