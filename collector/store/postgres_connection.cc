#include "collector/store/postgres_connection.h"

#include <libpq-fe.h>

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fscanary::store::postgres {
namespace {

// Type OIDs of the values the store binds and reads (pg_type.dat).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr int kBinary = 1;

constexpr std::string_view kReadOnlySqlState = "25006";

absl::StatusCode CodeForSqlState(std::string_view state) {
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  // 25006: a read-only transaction where the store writes, a server that
  // became a standby (a failover reached through the same address); the
  // connection is dropped (Connection::Error) so the next one may reach the
  // primary.
  if (state.starts_with("08") || state == "57P01" || state == "57P02" || state == "57P03" ||
      state == kReadOnlySqlState) {
    return absl::StatusCode::kUnavailable;
  }
  if (state.starts_with("23") || state.starts_with("22") || state == "P0001") {
    return absl::StatusCode::kInvalidArgument;
  }
  if (state.starts_with("53")) return absl::StatusCode::kResourceExhausted;
  if (state.starts_with("28") || state == "42501") return absl::StatusCode::kPermissionDenied;
  if (state == "XX001" || state == "XX002") return absl::StatusCode::kDataLoss;
  return absl::StatusCode::kInternal;
}

std::string Trimmed(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// ?N (the store's placeholders) as $N, outside quoted literals.
std::string Translate(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool quoted = false;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    const bool placeholder =
        !quoted && c == '?' && i + 1 < sql.size() && sql[i + 1] >= '0' && sql[i + 1] <= '9';
    out.push_back(placeholder ? '$' : c);
  }
  return out;
}

uint64_t BigEndian(const char* bytes, int length) {
  uint64_t value = 0;
  for (int i = 0; i < length; ++i) value = value << 8 | static_cast<uint8_t>(bytes[i]);
  return value;
}

// At most this many statements wait in a pipeline before it is ended: the
// results they hold back stay small.
constexpr size_t kMaxPipelined = 256;

// One execution of a statement: parameters gathered by the Binds, sent at the
// first Step (or by Send), the rows then read from the result.
class PostgresStatement final : public sql::Statement::Impl {
 public:
  PostgresStatement(Connection* connection, Connection::Sql* sql)
      : connection_(connection), sql_(sql) {}

  void Bind(int position, int64_t value) override {
    std::string bytes(8, '\0');
    for (int i = 0; i < 8; ++i) {
      bytes[static_cast<size_t>(i)] =
          static_cast<char>(static_cast<uint64_t>(value) >> (56 - 8 * i));
    }
    Set(position, kInt8Oid, std::move(bytes));
  }
  void BindText(int position, std::string_view text) override {
    Set(position, kTextOid, std::string(text));
  }
  void BindBlob(int position, std::string_view bytes) override {
    Set(position, kByteaOid, std::string(bytes));
  }
  void BindNull(int position) override {
    Param& param = At(position);
    param = Param{.type = 0, .bytes = {}, .null = true};  // the type follows from the SQL
  }

  absl::StatusOr<bool> Step() override {
    if (result_ == nullptr) {
      absl::StatusOr<Result> result = connection_->Run(*sql_, Gathered());
      if (!result.ok()) return result.status();
      result_ = *std::move(result);
      rows_ = PQntuples(result_.get());
    }
    return ++row_ < rows_;
  }

  absl::Status Send() override { return connection_->Send(*sql_, Gathered()); }

  int64_t Int(int column) const override {
    if (IsNull(column)) return 0;
    const char* bytes = PQgetvalue(result_.get(), row_, column);
    const int length = PQgetlength(result_.get(), row_, column);
    switch (PQftype(result_.get(), column)) {
      case kInt8Oid:
        return static_cast<int64_t>(BigEndian(bytes, length));
      case kInt4Oid:
        return static_cast<int32_t>(BigEndian(bytes, length));
      case kInt2Oid:
        return static_cast<int16_t>(BigEndian(bytes, length));
      case kOidOid:
        return static_cast<int64_t>(BigEndian(bytes, length));
      case kBoolOid:
        return length > 0 && bytes[0] != 0 ? 1 : 0;
      default:
        return 0;  // the store reads integers only from integer columns
    }
  }
  std::string Text(int column) const override { return std::string(Blob(column)); }
  std::string_view Blob(int column) const override {
    if (IsNull(column)) return {};
    return std::string_view(PQgetvalue(result_.get(), row_, column),
                            static_cast<size_t>(PQgetlength(result_.get(), row_, column)));
  }
  bool IsNull(int column) const override { return PQgetisnull(result_.get(), row_, column) != 0; }

 private:
  struct Param {
    // Unbound positions are a NULL text: never read by the SQL that skips them.
    Oid type = kTextOid;
    std::string bytes;
    bool null = true;
  };
  Param& At(int position) {
    const auto index = static_cast<size_t>(position - 1);
    if (params_.size() <= index) params_.resize(index + 1);
    return params_[index];
  }
  void Set(int position, Oid type, std::string bytes) {
    At(position) = Param{.type = type, .bytes = std::move(bytes), .null = false};
  }

  Connection::Params Gathered() const {
    Connection::Params params;
    for (const Param& param : params_) {
      params.types.push_back(param.type);
      params.values.push_back(param.null ? nullptr : param.bytes.data());
      params.lengths.push_back(static_cast<int>(param.bytes.size()));
      params.formats.push_back(kBinary);
    }
    return params;
  }

  Connection* connection_;
  Connection::Sql* sql_;
  std::vector<Param> params_;
  Result result_;
  int rows_ = 0;
  int row_ = -1;
};

void IgnoreNotice(void*, const char*) {}

}  // namespace

void ResultDeleter::operator()(pg_result* result) const { PQclear(result); }

absl::StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::string& dsn,
                                                             const std::string& password) {
  // Entries before dbname are defaults the connection string may override;
  // later ones override it. A server that stops answering (a cut network, a
  // frozen host) is given up 10 s into connecting, 30 s after data went
  // unacknowledged, or about 60 s into an idle wait for a result, instead of
  // the kernel's 15 minutes of retransmissions spent holding the writer.
  const std::pair<const char*, const char*> parameters[] = {
      {"application_name", "fscanary-collector"},
      {"connect_timeout", "10"},
      {"keepalives", "1"},
      {"keepalives_idle", "30"},
      {"keepalives_interval", "10"},
      {"keepalives_count", "3"},
      {"tcp_user_timeout", "30000"},
      {"dbname", dsn.c_str()},
      {"client_encoding", "UTF8"},
      {"password", password.empty() ? nullptr : password.c_str()},
  };
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : parameters) {
    if (value == nullptr) continue;
    keywords.push_back(keyword);
    values.push_back(value);
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  pg_conn* conn = PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Trimmed(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to PostgreSQL (store.postgres.dsn): ", message));
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  const char* host = PQhost(conn);
  std::unique_ptr<Connection> connection(
      new Connection(conn, absl::StrCat("PostgreSQL database ", PQdb(conn), " on ",
                                        host != nullptr && *host != '\0' ? host : "localhost")));
  return connection;
}

Connection::~Connection() { PQfinish(conn_); }

bool Connection::Broken() const { return read_only_ || lost_ || PQstatus(conn_) != CONNECTION_OK; }

absl::Status Connection::Exec(const std::string& sql) {
  // What was queued runs first; `sql` runs whatever became of it (a
  // ROLLBACK must, and a COMMIT of a transaction a queued write failed
  // rolls it back, while the failure is what is returned).
  const absl::Status flushed = Flush();
  Result result(PQexec(conn_, sql.c_str()));
  if (!flushed.ok()) return flushed;
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return absl::OkStatus();
  const std::string head = sql.substr(0, 60);
  return Error(result.get(), head.size() < sql.size() ? head + "..." : head);
}

absl::Status Connection::Flush() {
  if (pipeline_.empty()) return absl::OkStatus();
  return EndPipeline(/*keep_last=*/false).status();
}

absl::StatusOr<sql::Statement> Connection::Prepare(std::string_view sql) {
  auto it = sql_.find(absl::string_view(sql.data(), sql.size()));
  if (it == sql_.end()) {
    it = sql_.emplace(std::string(sql), std::make_unique<Sql>(Sql{.text = Translate(sql)})).first;
  }
  return sql::Statement(std::make_unique<PostgresStatement>(this, it->second.get()));
}

absl::StatusOr<const std::string*> Connection::Prepared(Sql& sql, const Params& params) {
  for (const auto& [types, name] : sql.prepared) {
    if (types == params.types) return &name;
  }
  // Preparing waits for its answer: the pipeline ends first.
  RETURN_IF_ERROR(Flush());
  std::string name = absl::StrCat("s", ++prepared_count_);
  Result result(PQprepare(conn_, name.c_str(), sql.text.c_str(),
                          static_cast<int>(params.types.size()), params.types.data()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return Error(result.get(), absl::StrCat("prepare ", sql.text));
  }
  sql.prepared.emplace_back(params.types, std::move(name));
  return &sql.prepared.back().second;
}

absl::StatusOr<Result> Connection::Run(Sql& sql, const Params& params) {
  ASSIGN_OR_RETURN(const std::string* name, Prepared(sql, params));
  const int count = static_cast<int>(params.values.size());
  if (!pipeline_.empty()) {
    // Rides on the pipeline: the writes queued before it and this statement
    // in one round trip.
    if (PQsendQueryPrepared(conn_, name->c_str(), count, params.values.data(),
                            params.lengths.data(), params.formats.data(), kBinary) != 1) {
      lost_ = true;
      return Error(nullptr, sql.text);
    }
    pipeline_.push_back(&sql.text);
    return EndPipeline(/*keep_last=*/true);
  }
  Result result(PQexecPrepared(conn_, name->c_str(), count, params.values.data(),
                               params.lengths.data(), params.formats.data(), kBinary));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return Error(result.get(), sql.text);
  }
  return result;
}

absl::Status Connection::Send(Sql& sql, const Params& params) {
  ASSIGN_OR_RETURN(const std::string* name, Prepared(sql, params));
  if (pipeline_.empty() && PQenterPipelineMode(conn_) != 1) {
    return Error(nullptr, "entering pipeline mode");
  }
  if (PQsendQueryPrepared(conn_, name->c_str(), static_cast<int>(params.values.size()),
                          params.values.data(), params.lengths.data(), params.formats.data(),
                          kBinary) != 1) {
    lost_ = true;
    return Error(nullptr, sql.text);
  }
  pipeline_.push_back(&sql.text);
  if (pipeline_.size() >= kMaxPipelined) return Flush();
  return absl::OkStatus();
}

absl::StatusOr<Result> Connection::EndPipeline(bool keep_last) {
  const std::vector<const std::string*> sent = std::exchange(pipeline_, {});
  if (PQpipelineSync(conn_) != 1) {
    lost_ = true;
    return Error(nullptr, "ending a pipeline");
  }
  absl::Status failed;
  Result kept;
  for (size_t i = 0; i < sent.size(); ++i) {
    // Each statement's result, then a null. After a failure the server
    // skips the rest (PGRES_PIPELINE_ABORTED) up to the Sync.
    while (pg_result* raw = PQgetResult(conn_)) {
      Result result(raw);
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) {
        if (failed.ok()) failed = Error(raw, *sent[i]);
      } else if (status == PGRES_PIPELINE_ABORTED) {
        if (failed.ok()) failed = Error(nullptr, *sent[i]);
      } else if (keep_last && i + 1 == sent.size()) {
        kept = std::move(result);
      }
    }
  }
  Result sync(PQgetResult(conn_));
  if (PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC || PQexitPipelineMode(conn_) != 1) {
    // Out of step with the server (a connection lost midway): given up.
    lost_ = true;
    if (failed.ok()) failed = Error(nullptr, "ending a pipeline");
  }
  if (!failed.ok()) return failed;
  return kept;
}

absl::Status Connection::Error(const pg_result* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  // One line: the server's message with its detail and hint, without the
  // quoted statement and caret PQresultErrorMessage adds.
  std::string message;
  if (const char* primary =
          result != nullptr ? PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr) {
    message = primary;
    for (const int field : {PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT}) {
      if (const char* more = PQresultErrorField(result, field))
        absl::StrAppend(&message, "; ", more);
    }
  } else {
    message = Trimmed(PQerrorMessage(conn_));
  }
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (state != nullptr) {
    code = CodeForSqlState(state);
    if (state == kReadOnlySqlState) read_only_ = true;
  } else if (Broken()) {
    code = absl::StatusCode::kUnavailable;
  }
  return absl::Status(code, absl::StrCat(name_, ": ", std::string(what), ": ", message,
                                         state != nullptr ? absl::StrCat(" (SQLSTATE ", state, ")")
                                                          : std::string()));
}

absl::Status CheckDsn(const std::string& dsn) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(dsn.c_str(), &error);
  if (options == nullptr) {
    std::string message = Trimmed(error != nullptr ? error : "out of memory");
    PQfreemem(error);
    return absl::InvalidArgumentError(
        absl::StrCat("the PostgreSQL connection string does not parse: ", message));
  }
  bool has_password = false;
  for (const PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (std::strcmp(option->keyword, "password") == 0 && option->val != nullptr &&
        *option->val != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(options);
  if (has_password) {
    return absl::InvalidArgumentError(
        "the PostgreSQL connection string holds a password; it must not be in the "
        "configuration: put it in the file store.postgres.password_file names, or in "
        "PGPASSFILE / PGPASSWORD");
  }
  return absl::OkStatus();
}

}  // namespace fscanary::store::postgres
