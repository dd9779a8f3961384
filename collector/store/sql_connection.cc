#include "collector/store/sql_connection.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace fscanary::store::sql {
namespace {

absl::StatusOr<Statement> FirstRow(Connection& connection, std::string_view sql) {
  absl::StatusOr<Statement> statement = connection.Prepare(sql);
  if (!statement.ok()) return statement.status();
  absl::StatusOr<bool> row = statement->Step();
  if (!row.ok()) return row.status();
  if (!*row) {
    return absl::InternalError(absl::StrCat(connection.name(), ": no row from ", std::string(sql)));
  }
  return statement;
}

}  // namespace

absl::Status Statement::Run() { return impl_->Impl::Send(); }

absl::Status Statement::Impl::Send() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

absl::StatusOr<int64_t> Connection::QueryInt(std::string_view sql) {
  absl::StatusOr<Statement> statement = FirstRow(*this, sql);
  if (!statement.ok()) return statement.status();
  return statement->Int(0);
}

absl::StatusOr<std::string> Connection::QueryText(std::string_view sql) {
  absl::StatusOr<Statement> statement = FirstRow(*this, sql);
  if (!statement.ok()) return statement.status();
  return statement->Text(0);
}

absl::StatusOr<Transaction> Transaction::Begin(Connection& connection, const std::string& begin) {
  absl::Status begun = connection.Exec(begin);
  if (!begun.ok()) {
    // `begin` may be several statements, the first of which opened it.
    (void)connection.Exec("ROLLBACK");
    return begun;
  }
  return Transaction(connection);
}

Transaction::~Transaction() {
  // Nothing to report to: an error already travels to the caller, and an
  // engine whose ROLLBACK fails rolls back on its own (SQLite when the
  // connection next runs, PostgreSQL when the connection closes).
  if (connection_ != nullptr) (void)connection_->Exec("ROLLBACK");
}

absl::Status Transaction::Commit() {
  Connection* connection = std::exchange(connection_, nullptr);
  absl::Status committed = connection->Exec("COMMIT");
  // A failed COMMIT may leave the transaction open (SQLITE_BUSY): end it.
  if (!committed.ok()) (void)connection->Exec("ROLLBACK");
  return committed;
}

}  // namespace fscanary::store::sql
