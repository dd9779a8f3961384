#pragma once
// The Store on PostgreSQL, for several collectors sharing one database
// (docs/STORE.md, docs/SCALING.md).
//
// Several stores may write at once, so nothing the write path knows of a
// host outlives a transaction: each write transaction locks the rows of its
// hosts (in agent id order) and reads their state afresh. The ledger's
// primary key (host_id, sequence) is what makes a record stored once across
// stores: the second INSERT ... ON CONFLICT waits for the first to commit,
// then finds the record held and compares digests. A transaction the server
// aborts for a deadlock runs again. Commits are durable when they return
// (each write transaction sets synchronous_commit on, unless remote_apply).

#include <memory>
#include <string>

#include "collector/store/sql_store.h"

namespace fscanary::store {

// store.postgres.password_file's first line. Refused when others may read
// it: a password any local user can read is no secret.
absl::StatusOr<std::string> ReadPostgresPasswordFile(const std::string& path);

class PostgresStore final : public SqlStore {
 public:
  static absl::StatusOr<std::unique_ptr<PostgresStore>> Open(const PostgresOptions& options);
  ~PostgresStore() override;

 private:
  PostgresStore(PostgresOptions options, std::string password,
                std::unique_ptr<sql::Connection> writer);

  absl::StatusOr<std::unique_ptr<sql::Connection>> OpenReader() override;
  absl::StatusOr<std::unique_ptr<sql::Connection>> ReopenWriter() override;
  absl::StatusOr<uint64_t> DatabaseBytes(sql::Connection& reader) override;

  const PostgresOptions options_;
  const std::string password_;
};

}  // namespace fscanary::store
