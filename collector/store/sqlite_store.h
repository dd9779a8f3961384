#pragma once
// The embedded Store: one SQLite database in WAL mode (docs/STORE.md).
//
// This store is the database's only writer (an exclusive lock on
// "<path>.lock"), so the write path keeps what it knows of hosts between
// transactions. synchronous=FULL makes every commit fsync the WAL, so an
// acknowledged record survives a power loss, not just a crash of the process.

#include <memory>

#include "collector/store/sql_store.h"
#include "io/posix.h"

namespace fscanary::store {

class SqliteStore final : public SqlStore {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;

 private:
  SqliteStore(SqliteOptions options, io::UniqueFd lock, std::unique_ptr<sql::Connection> writer);

  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenReader() override;
  absl::StatusOr<uint64_t> DatabaseBytes(sql::Connection& reader) override;

  const SqliteOptions options_;
  // Held for the store's life; released after every connection closed.
  io::UniqueFd lock_;
};

}  // namespace fscanary::store
