// How the PostgreSQL store's write transactions hold up against the server's
// settings and other collectors: durable whatever the defaults say.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/collector/store/postgres_fixture.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using testing::kStored;

constexpr int64_t kSecond = 1'000'000'000;

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

}  // namespace
}  // namespace fscanary::store
