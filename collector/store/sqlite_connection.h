#pragma once
// A thin layer over one SQLite connection: prepared statements cached for the
// connection's life, transactions that roll back unless committed, and every
// failure turned into a status that names the database file. The only header
// of the store that knows SQLite exists (by forward declaration; <sqlite3.h>
// is included by the .cc files alone).
//
// Not thread-safe: one thread at a time uses a connection and its statements.
//
// Every connection has two SQL functions for the sums the store keeps, which
// saturate instead of overflowing: sat_add(a, b), a + b held within
// [0, 2^63-1], and the aggregate sat_sum(x), the same over rows (0 for none).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

struct sqlite3;
struct sqlite3_stmt;

namespace fscanary::store::sqlite {

class Connection;

// A cached prepared statement in use. Going out of scope resets it and clears
// its bindings, so the next user starts afresh. A failed Bind is remembered
// and returned by the next Step or Run. Positions count from 1 (SQLite's ?N).
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& Bind(int position, int64_t value);
  Statement& BindText(int position, std::string_view text);
  Statement& BindBlob(int position, std::string_view bytes);
  Statement& BindNull(int position);

  // true: a row is ready to read; false: done.
  absl::StatusOr<bool> Step();
  // Steps to the end of a statement that returns no rows.
  absl::Status Run();

  // Columns count from 0. Blob's bytes are valid until the next Step.
  int64_t Int(int column) const;
  std::string Text(int column) const;
  std::string_view Blob(int column) const;
  bool IsNull(int column) const;

 private:
  friend class Connection;
  Statement(const Connection* connection, sqlite3_stmt* statement);

  const Connection* connection_;
  sqlite3_stmt* statement_;
  int bind_error_ = 0;
};

enum class Access { kReadWrite, kReadOnly };

class Connection {
 public:
  // Opens `path` (creating it only with kReadWrite). Cheap: SQLite reads the
  // file only when the first statement runs.
  static absl::StatusOr<std::unique_ptr<Connection>> Open(const std::string& path, Access access,
                                                          int busy_timeout_ms);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return no rows (schema scripts, pragmas).
  absl::Status Exec(const std::string& sql);
  // A statement prepared once per connection and kept (SQL text is the key).
  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // The first column of the first row of `sql` (pragmas, counts).
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);
  absl::StatusOr<std::string> QueryText(std::string_view sql);

  // Rows changed by the last INSERT, UPDATE or DELETE; rowid of the last INSERT.
  int64_t Changes() const;
  int64_t LastInsertRowId() const;

  // A status for SQLite result code `rc` from doing `what`, naming the file.
  absl::Status Error(int rc, std::string_view what) const;
  const std::string& path() const { return path_; }

 private:
  Connection(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  const std::string path_;
  sqlite3* db_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> statements_;
};

// BEGIN on construction ... ROLLBACK on destruction unless Commit() succeeded.
// Immediate transactions take the write lock up front, so a writer never
// fails half way for want of it.
class Transaction {
 public:
  enum class Kind { kRead, kImmediate };
  static absl::StatusOr<Transaction> Begin(Connection& connection, Kind kind);
  Transaction(Transaction&& other) noexcept : connection_(other.connection_) {
    other.connection_ = nullptr;
  }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  absl::Status Commit();

 private:
  explicit Transaction(Connection& connection) : connection_(&connection) {}
  Connection* connection_;
};

}  // namespace fscanary::store::sqlite
