// How the PostgreSQL store's write transactions hold up against the server's
// settings and other collectors: durable whatever the defaults say.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/collector/store/postgres_fixture.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using testing::HelloMessage;
using testing::kStored;
using testing::ReportRecord;
using testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

class PostgresWrites : public testing::PostgresStoreTest {
 protected:
  // Records in seen_synchronous_commit the synchronous_commit in force
  // whenever the ledger takes a record (in the store's write transaction).
  void NoteSynchronousCommit() {
    Exec(
        "CREATE TABLE seen_synchronous_commit (setting text); "
        "CREATE FUNCTION note_synchronous_commit() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO seen_synchronous_commit "
        "VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$; "
        "CREATE TRIGGER note_synchronous_commit AFTER INSERT ON records FOR EACH ROW "
        "EXECUTE FUNCTION note_synchronous_commit()");
  }
  std::string SeenSynchronousCommit() {
    return QueryText("SELECT string_agg(setting, ',') FROM seen_synchronous_commit");
  }

  // Waits until `sessions` sessions of the test's database wait for a lock.
  void AwaitSessionsWaitingForALock(int sessions) {
    std::unique_ptr<postgres::Connection> db = Connect();
    ASSERT_NE(db, nullptr);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (true) {
      absl::StatusOr<int64_t> waiting = db->QueryInt(
          "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
          "AND wait_event_type = 'Lock'");
      ASSERT_TRUE(waiting.ok()) << waiting.status();
      if (*waiting >= sessions) return;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << *waiting << " waiting";
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling the server's view
    }
  }
};

TEST_F(PostgresWrites, CommitWaitsForTheWalFlushWhateverTheDatabaseDefault) {
  // `local` would let a synchronous standby lose an acknowledged record at a
  // failover.
  Exec(absl::StrCat("ALTER DATABASE ", database(), " SET synchronous_commit = local"));
  ASSERT_EQ(QueryText("SHOW synchronous_commit"), "local");
  auto store = Open();
  ASSERT_NE(store, nullptr);
  NoteSynchronousCommit();
  EXPECT_THAT(testing::Ingest(*store, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
  EXPECT_EQ(SeenSynchronousCommit(), "on");
}

TEST_F(PostgresWrites, ARemoteApplyDefaultIsKept) {
  Exec(absl::StrCat("ALTER DATABASE ", database(), " SET synchronous_commit = remote_apply"));
  auto store = Open();
  ASSERT_NE(store, nullptr);
  NoteSynchronousCommit();
  EXPECT_THAT(testing::Ingest(*store, "a", {FindingRecord(1, kSecond)}),
              ::testing::ElementsAre(kStored));
  EXPECT_EQ(SeenSynchronousCommit(), "remote_apply");
}

// Ingest on one collector holds the ledger and would go on to the epochs and
// reports; retention on another starts meanwhile. Neither may deadlock the
// other (retention once took its tables in the other order), and ingest is
// not run again.
TEST_F(PostgresWrites, RetentionOnOneCollectorWaitsForIngestOnAnotherWithoutADeadlock) {
  auto ingesting = Open();
  auto retaining = Open();
  ASSERT_NE(ingesting, nullptr);
  ASSERT_NE(retaining, nullptr);
  testing::Ingest(*ingesting, "a", {HelloMessage(VmFacts(), kSecond)}, kSecond);
  // A gate the test holds: ingest stops in it once its record is in the
  // ledger. Its attempts are counted by a sequence, which no rollback undoes.
  Exec(
      "CREATE SEQUENCE ledger_attempts; "
      "CREATE FUNCTION gate() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "PERFORM nextval('ledger_attempts'); PERFORM pg_advisory_xact_lock_shared(4242); "
      "RETURN NEW; END $$; "
      "CREATE TRIGGER gate AFTER INSERT ON records FOR EACH ROW EXECUTE FUNCTION gate()");
  std::unique_ptr<postgres::Connection> gate = Connect();
  ASSERT_NE(gate, nullptr);
  ASSERT_TRUE(gate->Exec("SELECT pg_advisory_lock(4242)").ok());

  absl::StatusOr<std::vector<RecordResult>> ingested;
  std::thread ingest([&] {
    ingested =
        ingesting->IngestBatch("a", std::vector{ReportRecord(1, 2 * kSecond, 4096)}, 2 * kSecond);
  });
  AwaitSessionsWaitingForALock(1);
  absl::StatusOr<RetentionResult> retained;
  std::thread retain(
      [&] { retained = retaining->ApplyRetention({.report_max_age_nanos = kDay}, 100 * kDay); });
  AwaitSessionsWaitingForALock(2);
  ASSERT_TRUE(gate->Exec("SELECT pg_advisory_unlock(4242)").ok());
  ingest.join();
  retain.join();

  ASSERT_TRUE(ingested.ok()) << ingested.status();
  EXPECT_EQ(ingested->at(0).outcome, kStored);
  EXPECT_TRUE(retained.ok()) << retained.status();
  EXPECT_EQ(QueryText("SELECT last_value::text FROM ledger_attempts"), "1");
}

TEST_F(PostgresWrites, AGroupCommitTakesNoSubtransactionWhenEveryAgentsBatchIsStored) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  // Past 64 subtransactions in one transaction every session's snapshots
  // slow down; a savepoint per agent in a group commit of 512 was that.
  const std::vector<v1::AgentMessage> a = {ReportRecord(1, kSecond, 4096)};
  const std::vector<v1::AgentMessage> b = {ReportRecord(1, kSecond, 4096),
                                           FindingRecord(2, kSecond)};
  const std::vector<v1::AgentMessage> c = {FindingRecord(1, kSecond)};
  absl::StatusOr<std::vector<std::vector<RecordResult>>> stored =
      store->IngestBatches(std::vector<AgentBatch>{{.agent_id = "a", .messages = a},
                                                   {.agent_id = "b", .messages = b},
                                                   {.agent_id = "c", .messages = c}},
                           kSecond);
  ASSERT_TRUE(stored.ok()) << stored.status();
  // A row written inside a savepoint carries the subtransaction's id.
  EXPECT_EQ(QueryText("SELECT count(DISTINCT xmin::text)::text FROM records"), "1");
  EXPECT_EQ(QueryText("SELECT count(*)::text FROM records"), "4");
}

TEST_F(PostgresWrites, AWriteThatFailsWhileQueuedFailsTheCommitAndKeepsNothing) {
  std::unique_ptr<postgres::Connection> db = Connect();
  ASSERT_NE(db, nullptr);
  ASSERT_TRUE(db->Exec("CREATE TABLE t (v bigint CHECK (v > 0))").ok());
  ASSERT_TRUE(db->Exec("BEGIN").ok());
  for (const int64_t v : {1, -1, 2}) {
    absl::StatusOr<sql::Statement> insert = db->Prepare("INSERT INTO t VALUES (?1)");
    ASSERT_TRUE(insert.ok()) << insert.status();
    // Queued: the refusal of -1 comes back later, never lost.
    EXPECT_TRUE(insert->Bind(1, v).Send().ok());
  }
  const absl::Status committed = db->Exec("COMMIT");
  EXPECT_EQ(committed.code(), absl::StatusCode::kInvalidArgument) << committed;
  EXPECT_THAT(std::string(committed.message()), ::testing::HasSubstr("INSERT INTO t"));
  EXPECT_FALSE(db->Broken());
  EXPECT_EQ(QueryText("SELECT count(*)::text FROM t"), "0");
  // The connection goes on: the statement prepared before runs again.
  absl::StatusOr<sql::Statement> insert = db->Prepare("INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(insert.ok()) << insert.status();
  EXPECT_TRUE(insert->Bind(1, 3).Send().ok());
  EXPECT_TRUE(db->Flush().ok());
  EXPECT_EQ(QueryText("SELECT count(*)::text FROM t"), "1");
}

TEST_F(PostgresWrites, AHelloTheDatabaseRefusesFailsOnlyItsOwnStream) {
  auto store = Open();
  ASSERT_NE(store, nullptr);
  Exec(
      "CREATE FUNCTION refuse_hello() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
      "RAISE EXCEPTION 'poison hello refused'; END $$; "
      "CREATE TRIGGER refuse_hello BEFORE UPDATE ON hosts FOR EACH ROW "
      "WHEN (NEW.agent_version = 'poison') EXECUTE FUNCTION refuse_hello()");
  const v1::AgentMessage good = HelloMessage(VmFacts(), kSecond);
  const v1::AgentMessage poison = HelloMessage(VmFacts(), kSecond, "poison");
  const std::vector<SessionChange> changes = {{.agent_id = "a", .hello = &good},
                                              {.agent_id = "m", .hello = &poison},
                                              {.agent_id = "z", .hello = &good}};
  absl::StatusOr<std::vector<absl::Status>> applied = store->RecordSessions(changes, kSecond);
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_EQ(applied->size(), 3u);
  EXPECT_TRUE((*applied)[0].ok()) << (*applied)[0];
  EXPECT_THAT(std::string((*applied)[1].message()), ::testing::HasSubstr("poison hello refused"));
  EXPECT_TRUE((*applied)[2].ok()) << (*applied)[2];
  EXPECT_EQ(QueryText("SELECT string_agg(agent_id, ',' ORDER BY agent_id) FROM hosts "
                      "WHERE agent_version = '0.1.0'"),
            "a,z");
  EXPECT_EQ(QueryText("SELECT count(*)::text FROM hosts WHERE agent_id = 'm'"), "0");
}

}  // namespace
}  // namespace fscanary::store
