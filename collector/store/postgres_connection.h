#pragma once
// One PostgreSQL connection (libpq) behind sql::Connection. Statements are
// sent with their parameters typed and in binary (no text is ever pasted
// into SQL); the store's ?N placeholders become PostgreSQL's $N. Each
// statement is prepared once per connection (per SQL text and parameter
// types: a NULL leaves its type to the server), so the server parses and
// plans it once. Statement::Send queues writes in libpq's pipeline mode:
// they travel with the next statement whose rows are read, or with the
// next Flush or Exec, in one round trip. Failures
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
#include <utility>
#include <vector>

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
  absl::Status Flush() override;
  absl::StatusOr<sql::Statement> Prepare(std::string_view sql) override;
  const std::string& name() const override { return name_; }
  bool Broken() const override;

  // A status for a failed `result` (null: the connection's own error) of
  // doing `what`, naming the database.
  absl::Status Error(const pg_result* result, std::string_view what);
  pg_conn* raw() const { return conn_; }

  // One SQL text of the store's: as PostgreSQL spells it, and the names it
  // is prepared under on this connection, per parameter types.
  struct Sql {
    std::string text;
    std::vector<std::pair<std::vector<unsigned int>, std::string>> prepared;
  };
  // A statement's parameters, as libpq takes them (binary).
  struct Params {
    std::vector<unsigned int> types;  // Oids; 0 for a NULL
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
  };
  // Runs `sql` and returns its rows: at once, or at the end of the pipeline
  // that Send began.
  absl::StatusOr<Result> Run(Sql& sql, const Params& params);
  // Queues `sql` in the pipeline (see Statement::Send).
  absl::Status Send(Sql& sql, const Params& params);

 private:
  Connection(pg_conn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}

  // The name `sql` is prepared under with these parameter types, preparing
  // it first if this connection has not (after ending the pipeline).
  absl::StatusOr<const std::string*> Prepared(Sql& sql, const Params& params);
  // Ends the pipeline: a Sync, then every queued statement's result in
  // order; the first failure, else the last statement's result when
  // `keep_last` (a Run riding on the pipeline).
  absl::StatusOr<Result> EndPipeline(bool keep_last);

  pg_conn* conn_;
  const std::string name_;
  // The server refused a write as read-only (SQLSTATE 25006): it may have
  // become a standby; only a new connection can reach the primary.
  bool read_only_ = false;
  // A pipeline ended in a state libpq could not leave: the connection is
  // given up.
  bool lost_ = false;
  // Per SQL text of the store's (the Sql stays where it is: statements
  // point at it).
  absl::flat_hash_map<std::string, std::unique_ptr<Sql>> sql_;
  // Statements prepared so far: the next one's name is s<count>.
  int prepared_count_ = 0;
  // The SQL of the statements in the pipeline, in the order sent; empty
  // when the connection is not in pipeline mode.
  std::vector<const std::string*> pipeline_;
};

// Whether the libpq connection string or URI `dsn` parses, and holds no
// password (a password belongs in a file or the environment, never in the
// configuration). InvalidArgument naming what is wrong.
absl::Status CheckDsn(const std::string& dsn);

}  // namespace fscanary::store::postgres
