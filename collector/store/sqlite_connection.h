#pragma once
// One SQLite connection behind sql::Connection: prepared statements cached for
// the connection's life, and every failure turned into a status that names
// the database file. The only header of the store that knows SQLite exists
// (by forward declaration; <sqlite3.h> is included by the .cc files alone).
//
// Not thread-safe: one thread at a time uses a connection and its statements.
// greatest, least, sat_add and sat_sum (sql_connection.h) are registered as
// SQL functions on every connection.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "collector/store/sql_connection.h"

struct sqlite3;
struct sqlite3_stmt;

namespace fscanary::store::sqlite {

enum class Access { kReadWrite, kReadOnly };

class Connection final : public sql::Connection {
 public:
  // Opens `path` (creating it only with kReadWrite). Cheap: SQLite reads the
  // file only when the first statement runs.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, Access access,
                                                          int busy_timeout_ms);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  absl::Status Exec(const std::string& sql) override;
  // Prepared once per connection and kept (SQL text is the key).
  absl::StatusOr<sql::Statement> Prepare(std::string_view sql) override;
  const std::string& name() const override { return name_; }

  // A status for SQLite result code `rc` from doing `what`, naming the file.
  absl::Status Error(int rc, std::string_view what) const;
  const std::string& path() const { return path_; }

 private:
  Connection(std::string path, sqlite3* db)
      : path_(std::move(path)), name_("database " + path_), db_(db) {}

  const std::string path_;
  const std::string name_;
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace fscanary::store::sqlite
