#pragma once
// The fixture of the tests of what only the PostgreSQL store does: a fresh
// database on the test binary's server, stores opened on it, and the
// superuser's own look into it. Skips where PostgreSQL is not installed and
// the test does not run as root.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "collector/store/postgres_connection.h"
#include "collector/store/store.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::store::testing {

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<fscanary::testing::PostgresServer*> server =
        fscanary::testing::SharedPostgresServer();
    if (!server.ok() && fscanary::testing::PostgresMaySkip(server.status())) {
      GTEST_SKIP() << server.status().message();
    }
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    absl::StatusOr<std::string> dsn = server_->CreateDatabase();
    ASSERT_TRUE(dsn.ok()) << dsn.status();
    dsn_ = *dsn;
  }

  std::unique_ptr<Store> Open() {
    absl::StatusOr<std::unique_ptr<Store>> store = OpenPostgresStore({.dsn = dsn_});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // The test's database, as SQL names it.
  std::string database() const { return dsn_.substr(dsn_.rfind('=') + 1); }

  // Runs `sql` as the superuser; the test fails if it cannot.
  void Exec(const std::string& sql) {
    const absl::Status done = server_->Exec(dsn_, sql);
    ASSERT_TRUE(done.ok()) << done;
  }

  // A connection of the superuser's own (the test's view into the database).
  std::unique_ptr<postgres::Connection> Connect() {
    absl::StatusOr<std::unique_ptr<postgres::Connection>> db = postgres::Connection::Open(dsn_, "");
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // The first column of the first row of `sql`, as text ("" on failure,
  // which fails the test).
  std::string QueryText(const std::string& sql) {
    std::unique_ptr<postgres::Connection> db = Connect();
    if (db == nullptr) return "";
    absl::StatusOr<std::string> text = db->QueryText(sql);
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  fscanary::testing::PostgresServer* server_ = nullptr;
  std::string dsn_;
};

}  // namespace fscanary::store::testing
