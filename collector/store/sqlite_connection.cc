#include "collector/store/sqlite_connection.h"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fscanary::store::sqlite {
namespace {

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return absl::StatusCode::kFailedPrecondition;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return absl::StatusCode::kInvalidArgument;
    default:
      return absl::StatusCode::kInternal;
  }
}

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// a + b held within [0, INT64_MAX]. SQLite's own + turns an overflowing sum
// into a REAL, which a STRICT INTEGER column then refuses (failing the whole
// transaction), and its sum() fails the query with "integer overflow".
int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return b > 0 ? kInt64Max : 0;
  return std::clamp<int64_t>(sum, 0, kInt64Max);
}

void SatAddFunction(sqlite3_context* context, int, sqlite3_value** args) {
  sqlite3_result_int64(context,
                       SaturatingAdd(sqlite3_value_int64(args[0]), sqlite3_value_int64(args[1])));
}

void SatSumStep(sqlite3_context* context, int, sqlite3_value** args) {
  auto* sum = static_cast<int64_t*>(sqlite3_aggregate_context(context, sizeof(int64_t)));
  if (sum == nullptr) {
    sqlite3_result_error_nomem(context);
    return;
  }
  if (sqlite3_value_type(args[0]) == SQLITE_NULL) return;
  *sum = SaturatingAdd(*sum, sqlite3_value_int64(args[0]));
}

void SatSumFinal(sqlite3_context* context) {
  // No row: 0, not NULL (it is a sum of counters).
  const auto* sum = static_cast<int64_t*>(sqlite3_aggregate_context(context, 0));
  sqlite3_result_int64(context, sum == nullptr ? 0 : *sum);
}

// greatest(a, b) and least(a, b) of two integers, PostgreSQL's names for
// what SQLite spells max(a, b) and min(a, b), so that the store's SQL is one.
void GreatestFunction(sqlite3_context* context, int, sqlite3_value** args) {
  sqlite3_result_int64(context,
                       std::max(sqlite3_value_int64(args[0]), sqlite3_value_int64(args[1])));
}

void LeastFunction(sqlite3_context* context, int, sqlite3_value** args) {
  sqlite3_result_int64(context,
                       std::min(sqlite3_value_int64(args[0]), sqlite3_value_int64(args[1])));
}

int RegisterFunctions(sqlite3* db) {
  using Scalar = void (*)(sqlite3_context*, int, sqlite3_value**);
  struct Function {
    const char* name;
    Scalar function;
  };
  constexpr int kFlags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
  for (const Function& scalar :
       {Function{"sat_add", SatAddFunction}, Function{"greatest", GreatestFunction},
        Function{"least", LeastFunction}}) {
    if (const int rc = sqlite3_create_function_v2(db, scalar.name, 2, kFlags, nullptr,
                                                  scalar.function, nullptr, nullptr, nullptr);
        rc != SQLITE_OK) {
      return rc;
    }
  }
  return sqlite3_create_function_v2(db, "sat_sum", 1, kFlags, nullptr, nullptr, SatSumStep,
                                    SatSumFinal, nullptr);
}

// A cached statement of one connection; reset with its bindings cleared
// when the user is done, so the next user starts afresh.
class SqliteStatement final : public sql::Statement::Impl {
 public:
  SqliteStatement(const Connection* connection, sqlite3_stmt* statement)
      : connection_(connection), statement_(statement) {}
  ~SqliteStatement() override {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

  void Bind(int position, int64_t value) override {
    Check(sqlite3_bind_int64(statement_, position, value));
  }
  void BindText(int position, std::string_view text) override {
    Check(sqlite3_bind_text64(statement_, position, text.data(), text.size(), SQLITE_TRANSIENT,
                              SQLITE_UTF8));
  }
  void BindBlob(int position, std::string_view bytes) override {
    // A zero-length blob is still a blob, not NULL.
    Check(sqlite3_bind_blob64(statement_, position, bytes.empty() ? "" : bytes.data(), bytes.size(),
                              SQLITE_TRANSIENT));
  }
  void BindNull(int position) override { Check(sqlite3_bind_null(statement_, position)); }

  absl::StatusOr<bool> Step() override {
    if (bind_error_ != SQLITE_OK) {
      return connection_->Error(bind_error_, absl::StrCat("bind ", sqlite3_sql(statement_)));
    }
    const int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return connection_->Error(rc, sqlite3_sql(statement_));
  }

  int64_t Int(int column) const override { return sqlite3_column_int64(statement_, column); }
  std::string Text(int column) const override {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (text == nullptr) return "";
    return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }
  std::string_view Blob(int column) const override {
    const auto* bytes = static_cast<const char*>(sqlite3_column_blob(statement_, column));
    if (bytes == nullptr) return {};
    return std::string_view(bytes, static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }
  bool IsNull(int column) const override {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }

 private:
  void Check(int rc) {
    if (rc != SQLITE_OK) bind_error_ = rc;
  }

  const Connection* connection_;
  sqlite3_stmt* statement_;
  int bind_error_ = SQLITE_OK;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& path, Access access,
                                                             int busy_timeout_ms) {
  // NOMUTEX: each connection is used by one thread at a time (the store's
  // locks see to it), so SQLite's own per-connection mutex is not needed.
  const int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE |
                    (access == Access::kReadOnly ? SQLITE_OPEN_READONLY
                                                 : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // Even a failed open usually returns a handle that must be closed.
  std::unique_ptr<Connection> connection(new Connection(path, db));
  if (rc != SQLITE_OK) {
    return connection->Error(rc, "open");
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, busy_timeout_ms);
  if (const int registered = RegisterFunctions(db); registered != SQLITE_OK) {
    return connection->Error(registered, "register the store's SQL functions");
  }
  return connection;
}

Connection::~Connection() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close_v2(db_);
}

absl::Status Connection::Exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return absl::OkStatus();
  std::string detail = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  const std::string head = sql.substr(0, 60);
  return absl::Status(CodeFor(rc),
                      absl::StrCat(name_, ": ", head, head.size() < sql.size() ? "...: " : ": ",
                                   detail, " (", sqlite3_errstr(rc), ")"));
}

absl::StatusOr<sql::Statement> Connection::Prepare(std::string_view sql) {
  auto it = statements_.find(absl::string_view(sql.data(), sql.size()));
  if (it == statements_.end()) {
    sqlite3_stmt* statement = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(statement);
      return Error(rc, absl::StrCat("prepare ", std::string(sql)));
    }
    it = statements_.emplace(std::string(sql), statement).first;
  }
  return sql::Statement(std::make_unique<SqliteStatement>(this, it->second));
}

absl::Status Connection::Error(int rc, std::string_view what) const {
  // The connection's message describes the most recent failure; for a result
  // code that did not come from this connection (a bind) the code's text does.
  const char* message = db_ != nullptr && sqlite3_extended_errcode(db_) == rc ? sqlite3_errmsg(db_)
                                                                              : sqlite3_errstr(rc);
  return absl::Status(CodeFor(rc), absl::StrCat(name_, ": ", std::string(what), ": ", message, " (",
                                                sqlite3_errstr(rc), ")"));
}

}  // namespace fscanary::store::sqlite
