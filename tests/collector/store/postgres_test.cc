// What only the PostgreSQL store has: several stores (collectors) on one
// database, connections lost or refused and replaced, its schema version,
// and a DSN that must not hold a password.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/stat.h>

#include <fstream>
#include <latch>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "collector/store/postgres_schema.h"
#include "tests/collector/store/postgres_fixture.h"
#include "tests/collector/store/store_test_support.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using ::testing::HasSubstr;
using testing::kConflict;
using testing::kDuplicate;
using testing::kStored;
using ::testing::Not;
using testing::ReportRecord;

constexpr int64_t kSecond = 1'000'000'000;

using PostgresStore = testing::PostgresStoreTest;

TEST_F(PostgresStore, TwoStoresReceivingTheSameRecordsAtOnceStoreEachOnceAndBothAcknowledge) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // An agent failing over mid-stream: both collectors get the same batches,
  // released together each round.
  constexpr uint64_t kRounds = 30;
  std::vector<RecordResult::Outcome> outcomes[2];
  {
    std::latch start(2);
    auto ingest = [&](Store& store, std::vector<RecordResult::Outcome>& seen) {
      start.arrive_and_wait();
      for (uint64_t round = 1; round <= kRounds; ++round) {
        const std::vector<v1::AgentMessage> batch = {
            FindingRecord(2 * round - 1, static_cast<int64_t>(round) * kSecond),
            ReportRecord(2 * round, static_cast<int64_t>(round) * kSecond, 4096)};
        absl::StatusOr<std::vector<RecordResult>> stored = store.IngestBatch("a", batch, 1);
        ASSERT_TRUE(stored.ok()) << stored.status();
        for (const RecordResult& result : *stored) seen.push_back(result.outcome);
      }
    };
    std::thread a(ingest, std::ref(*first), std::ref(outcomes[0]));
    std::thread b(ingest, std::ref(*second), std::ref(outcomes[1]));
    a.join();
    b.join();
  }
  ASSERT_EQ(outcomes[0].size(), 2 * kRounds);
  ASSERT_EQ(outcomes[1].size(), 2 * kRounds);
  for (size_t i = 0; i < outcomes[0].size(); ++i) {
    // Each record stored by exactly one, a duplicate (acknowledged) on the other.
    EXPECT_TRUE((outcomes[0][i] == kStored && outcomes[1][i] == kDuplicate) ||
                (outcomes[0][i] == kDuplicate && outcomes[1][i] == kStored))
        << "record " << i + 1 << ": " << static_cast<int>(outcomes[0][i]) << " and "
        << static_cast<int>(outcomes[1][i]);
  }
  for (Store* store : {first.get(), second.get()}) {
    absl::StatusOr<v1::ListFindingsResponse> findings = store->ListFindings({});
    ASSERT_TRUE(findings.ok()) << findings.status();
    EXPECT_EQ(findings->findings_size(), static_cast<int>(kRounds));
    absl::StatusOr<std::vector<EpochRecord>> epochs = store->ListEpochs();
    ASSERT_TRUE(epochs.ok()) << epochs.status();
    ASSERT_EQ(epochs->size(), 1u);
    EXPECT_EQ(epochs->front().exposure.reports, kRounds);
    EXPECT_EQ(epochs->front().exposure.bytes_verified, 4096 * kRounds);
    EXPECT_EQ(*store->MaxSequence("a"), 2 * kRounds);
  }
}

TEST_F(PostgresStore, ADifferentRecordUnderAHeldSequenceIsAConflictOnTheOtherStoreToo) {
  auto first = Open();
  auto second = Open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_THAT(testing::Ingest(*first, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
  const absl::StatusOr<std::vector<RecordResult>> replay =
      second->IngestBatch("a", std::vector{ReportRecord(1, 2 * kSecond, 4096)}, 1);
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_EQ(replay->size(), 1u);
  EXPECT_EQ(replay->front().outcome, kConflict);
  EXPECT_NE(replay->front().held_sha256, replay->front().received_sha256);
  // The one held is still the first, on both.
  EXPECT_THAT(testing::Ingest(*second, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kDuplicate));
  EXPECT_EQ(testing::EpochsOf(*first, "a").front().exposure.reports, 0u);
}

TEST_F(PostgresStore, AConnectionTheServerDroppedIsReplacedAtTheNextCall) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->ListFindings({}).ok());  // a reader connection is pooled too
  // A server restart or failover, as the store sees it: its connections go.
  ASSERT_TRUE(server_
                  ->Exec(dsn_,
                         "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                         "datname = current_database() AND pid <> pg_backend_pid()")
                  .ok());
  // The call that meets the loss fails, acknowledging nothing; the next
  // reconnects.
  const absl::StatusOr<std::vector<RecordResult>> lost =
      store->IngestBatch("a", std::vector{FindingRecord(1, kSecond)}, 1);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  EXPECT_FALSE(store->ListFindings({}).ok());
  EXPECT_THAT(testing::Ingest(*store, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
  absl::StatusOr<v1::ListFindingsResponse> findings = store->ListFindings({});
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_EQ(findings->findings_size(), 1);
}

TEST_F(PostgresStore, AWriteAServerRefusesAsReadOnlyFailsUnavailableAndTheNextCallReconnects) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // A failover that left the store's address on a standby, as the store sees
  // it: its connections go, and the new ones may not write.
  Exec(absl::StrCat("ALTER DATABASE ", database(), " SET default_transaction_read_only = on"));
  Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
      "datname = current_database() AND pid <> pg_backend_pid()");
  const absl::StatusOr<std::vector<RecordResult>> lost =
      store->IngestBatch("a", std::vector{FindingRecord(1, kSecond)}, 1);
  ASSERT_FALSE(lost.ok());
  const absl::StatusOr<std::vector<RecordResult>> read_only =
      store->IngestBatch("a", std::vector{FindingRecord(1, kSecond)}, 1);
  ASSERT_FALSE(read_only.ok());
  EXPECT_EQ(read_only.status().code(), absl::StatusCode::kUnavailable) << read_only.status();
  EXPECT_THAT(std::string(read_only.status().message()), HasSubstr("25006"));
  // The primary is back at the address: the read-only connection was not kept.
  ASSERT_TRUE(
      server_
          ->Exec(server_->Dsn("postgres"), absl::StrCat("ALTER DATABASE ", database(),
                                                        " RESET default_transaction_read_only"))
          .ok());
  EXPECT_THAT(testing::Ingest(*store, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
}

TEST_F(PostgresStore, ConnectionsGiveUpOnASilentServerInSecondsUnlessTheDsnSaysOtherwise) {
  absl::StatusOr<std::unique_ptr<postgres::Connection>> db =
      postgres::Connection::Open(dsn_ + " keepalives_idle=45", "");
  ASSERT_TRUE(db.ok()) << db.status();
  std::map<std::string, std::string> used;
  PQconninfoOption* options = PQconninfo((*db)->raw());
  ASSERT_NE(options, nullptr);
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) used[option->keyword] = option->val;
  }
  PQconninfoFree(options);
  EXPECT_EQ(used["connect_timeout"], "10");
  EXPECT_EQ(used["keepalives"], "1");
  EXPECT_EQ(used["keepalives_interval"], "10");
  EXPECT_EQ(used["keepalives_count"], "3");
  EXPECT_EQ(used["tcp_user_timeout"], "30000");
  EXPECT_EQ(used["keepalives_idle"], "45");  // the DSN's own
}

TEST_F(PostgresStore, ASchemaNewerThanTheBinaryIsRefusedNamingBothVersions) {
  Open().reset();
  const int64_t newer = postgres::LatestSchemaVersion() + 5;
  ASSERT_TRUE(
      server_->Exec(dsn_, absl::StrCat("UPDATE schema_version SET version = ", newer)).ok());
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore({.dsn = dsn_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr(absl::StrCat("schema version ", newer)));
  EXPECT_THAT(std::string(store.status().message()),
              HasSubstr(absl::StrCat("up to ", postgres::LatestSchemaVersion())));
}

TEST_F(PostgresStore, ASchemaHoldingOtherTablesIsLeftUntouched) {
  ASSERT_TRUE(server_->Exec(dsn_, "CREATE TABLE invoices (id bigint)").ok());
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore({.dsn = dsn_});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("no schema_version"));
  // Nothing was created beside it.
  EXPECT_FALSE(server_->Exec(dsn_, "SELECT 1 FROM hosts").ok());
}

TEST_F(PostgresStore, APasswordFileReadableByOthersIsRefused) {
  fscanary::testing::TempDir dir;
  const std::string file = dir.Join("password");
  std::ofstream(file) << "secret\n";
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenPostgresStore({.dsn = dsn_, .password_file = file});
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("chmod 600"));
  // Readable by its owner only, it is used (trust authentication ignores it).
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_TRUE(OpenPostgresStore({.dsn = dsn_, .password_file = file}).ok());
}

TEST_F(PostgresStore, ADataOnlyRoleOpensAMigratedSchemaAndIngestsButCannotMigrate) {
  // docs/SCALING.md, "A separate migration role", on this test's database.
  const std::string database = this->database();
  const std::string owner = database + "_owner";
  const std::string collector = database + "_collector";
  ASSERT_TRUE(
      server_
          ->Exec(dsn_, absl::StrCat("CREATE ROLE ", owner, " LOGIN; CREATE ROLE ", collector,
                                    " LOGIN; REVOKE ALL ON SCHEMA public FROM PUBLIC; "
                                    "CREATE SCHEMA fscanary AUTHORIZATION ",
                                    owner, "; GRANT USAGE ON SCHEMA fscanary TO ", collector,
                                    "; ALTER DEFAULT PRIVILEGES FOR ROLE ", owner,
                                    " IN SCHEMA fscanary GRANT SELECT, INSERT, UPDATE, DELETE ON "
                                    "TABLES TO ",
                                    collector, "; ALTER DEFAULT PRIVILEGES FOR ROLE ", owner,
                                    " IN SCHEMA fscanary GRANT USAGE ON SEQUENCES TO ", collector))
          .ok());
  auto as = [&](const std::string& role) {
    return absl::StrCat(dsn_, " user=", role, " options='-c search_path=fscanary'");
  };
  absl::StatusOr<std::unique_ptr<Store>> early = OpenPostgresStore({.dsn = as(collector)});
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.status().code(), absl::StatusCode::kPermissionDenied) << early.status();
  EXPECT_THAT(
      std::string(early.status().message()),
      HasSubstr(absl::StrCat("migrating to schema version ", postgres::LatestSchemaVersion())));

  ASSERT_TRUE(OpenPostgresStore({.dsn = as(owner)}).ok());
  absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore({.dsn = as(collector)});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_THAT(testing::Ingest(**store, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
  EXPECT_EQ((*store)->ListFindings({})->findings_size(), 1);
}

TEST(PostgresDsn, APasswordInTheConnectionStringIsRefusedWithoutRepeatingIt) {
  for (const std::string dsn : {"host=/run/postgresql dbname=fscanary password=hunter2",
                                "postgresql://fscanary:hunter2@localhost/fscanary"}) {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore({.dsn = dsn});
    ASSERT_FALSE(store.ok()) << dsn;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(store.status().message()), HasSubstr("password"));
    EXPECT_THAT(std::string(store.status().message()), Not(HasSubstr("hunter2")));
  }
}

}  // namespace
}  // namespace fscanary::store
