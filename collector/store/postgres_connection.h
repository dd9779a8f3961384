#pragma once
// One PostgreSQL connection (libpq) behind sql::Connection. Statements are
// sent with their parameters typed and in binary (no text is ever pasted
// into SQL); the store's ?N placeholders become PostgreSQL's $N. Failures
// become statuses that name the database, with the code following the
// SQLSTATE: Aborted for a deadlock or serialization failure (run the
// transaction again), Unavailable when the server is gone or will not write
// (read-only, a standby after a failover: the connection is then Broken),
// InvalidArgument for a constraint or a raised exception.
//
// Not thread-safe: one thread at a time uses a connection and its statements.
// libpq is included by the postgres_*.cc files alone.

#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/store/sql_connection.h"

struct pg_conn;
struct pg_result;

namespace fscanary::store::postgres {

// Owns one PGresult.
struct ResultDeleter {
  void operator()(pg_result* result) const;
};
using Result = std::unique_ptr<pg_result, ResultDeleter>;

class Connection final : public sql::Connection {
 public:
  // Connects with `dsn` (a libpq connection string or URI) and, when not
  // empty, `password` (else libpq's own PGPASSWORD / PGPASSFILE apply).
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& dsn,
                                                          const std::string& password);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  absl::Status Exec(const std::string& sql) override;
  absl::StatusOr<sql::Statement> Prepare(std::string_view sql) override;
  const std::string& name() const override { return name_; }
  bool Broken() const override;

  // A status for a failed `result` (null: the connection's own error) of
  // doing `what`, naming the database.
  absl::Status Error(const pg_result* result, std::string_view what);
  pg_conn* raw() const { return conn_; }

 private:
  Connection(pg_conn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}

  pg_conn* conn_;
  const std::string name_;
  // The server refused a write as read-only (SQLSTATE 25006): it may have
  // become a standby; only a new connection can reach the primary.
  bool read_only_ = false;
  // The store's SQL with ?N turned into $N, per SQL text.
  absl::flat_hash_map<std::string, std::string> translated_;
};

// Whether the libpq connection string or URI `dsn` parses, and holds no
// password (a password belongs in a file or the environment, never in the
// configuration). InvalidArgument naming what is wrong.
absl::Status CheckDsn(const std::string& dsn);

}  // namespace fscanary::store::postgres
