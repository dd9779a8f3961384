#pragma once
// What the store's SQL needs of a database connection, whichever engine holds
// the data: statements with numbered parameters (?1, ?2 ...), rows read by
// column, and transactions that roll back unless committed. SQLite
// (sqlite_connection.h) and PostgreSQL (postgres_connection.h) implement it,
// so the store's logic (sql_store.h) is written once.
//
// Not thread-safe: one thread at a time uses a connection and its statements.
//
// The SQL the store runs is the dialect both engines understand (upserts with
// ON CONFLICT, RETURNING, IS DISTINCT FROM, aggregate FILTER). Every
// connection also has greatest(a, b), least(a, b) and the saturating
// sat_add(a, b) and aggregate sat_sum(x) (0 for no row), which hold sums within
// [0, 2^63-1] instead of overflowing.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary::store::sql {

// A statement in use. Positions count from 1 (?N), columns from 0. A failed
// Bind is remembered and returned by the next Step or Run. Going out of scope
// ends it (a cached statement is reset for its next user).
class Statement {
 public:
  // One engine's statement.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void Bind(int position, int64_t value) = 0;
    virtual void BindText(int position, std::string_view text) = 0;
    virtual void BindBlob(int position, std::string_view bytes) = 0;
    virtual void BindNull(int position) = 0;
    virtual absl::StatusOr<bool> Step() = 0;
    // Default: Step to the end.
    virtual absl::Status Send();
    virtual int64_t Int(int column) const = 0;
    virtual std::string Text(int column) const = 0;
    virtual std::string_view Blob(int column) const = 0;
    virtual bool IsNull(int column) const = 0;
  };

  explicit Statement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

  Statement& Bind(int position, int64_t value) {
    impl_->Bind(position, value);
    return *this;
  }
  Statement& BindText(int position, std::string_view text) {
    impl_->BindText(position, text);
    return *this;
  }
  Statement& BindBlob(int position, std::string_view bytes) {
    impl_->BindBlob(position, bytes);
    return *this;
  }
  Statement& BindNull(int position) {
    impl_->BindNull(position);
    return *this;
  }

  // true: a row is ready to read; false: done.
  absl::StatusOr<bool> Step() { return impl_->Step(); }
  // Steps to the end of a statement whose rows are not read.
  absl::Status Run();
  // Runs a statement whose rows are not read, possibly later: the connection
  // may send it together with the statements that follow it (one round trip
  // for several), in order, and report its failure with theirs, at the
  // latest at the connection's next Flush, Exec or Step. OK therefore means
  // "sent", not "done": a caller that must know which write failed Flushes.
  absl::Status Send() { return impl_->Send(); }

  // Blob's bytes are valid until the next Step.
  int64_t Int(int column) const { return impl_->Int(column); }
  std::string Text(int column) const { return impl_->Text(column); }
  std::string_view Blob(int column) const { return impl_->Blob(column); }
  bool IsNull(int column) const { return impl_->IsNull(column); }

 private:
  std::unique_ptr<Impl> impl_;
};

class Connection {
 public:
  virtual ~Connection() = default;

  // Runs one or more statements that return no rows (schema scripts,
  // transaction control). What Send left under way runs first and its
  // failure is returned, but `sql` runs all the same: a ROLLBACK always
  // does, and a COMMIT after a failed write never reports success.
  virtual absl::Status Exec(const std::string& sql) = 0;
  // Waits for what Send left under way; the first failure among it.
  virtual absl::Status Flush() { return absl::OkStatus(); }
  virtual absl::StatusOr<Statement> Prepare(std::string_view sql) = 0;
  // What errors call the database ("database /var/lib/...", "PostgreSQL
  // database fscanary on /run/postgresql").
  virtual const std::string& name() const = 0;
  // The connection is lost (the server went away); it will not come back.
  virtual bool Broken() const { return false; }

  // The first column of the first row of `sql` (counts, settings).
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);
  absl::StatusOr<std::string> QueryText(std::string_view sql);
};

// `begin` on construction ... ROLLBACK on destruction unless Commit()
// succeeded.
class Transaction {
 public:
  static absl::StatusOr<Transaction> Begin(Connection& connection, const std::string& begin);
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

}  // namespace fscanary::store::sql
