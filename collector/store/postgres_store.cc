// Opening the PostgreSQL store: the DSN checked for a password, the password
// file read, the schema migrated.

#include "collector/store/postgres_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/store/postgres_connection.h"
#include "collector/store/postgres_schema.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

// Taken by every write transaction shared, by retention exclusive: retention
// waits for the write transactions under way and holds off new ones, whatever
// rows and tables they would lock in whatever order (LOCK TABLE on the record
// tables, taken while an ingest held records and waited for epochs, was a
// deadlock across collectors). Not the migration's key (postgres_schema.cc).
constexpr const char* kWriteLock = "7382353484305232505";  // "fscanary" in ASCII

// Acknowledged means durable: each write transaction commits once its WAL is
// flushed (on the synchronous standbys too, where there are some), whatever
// the role or database default (off, local, remote_write). Set in the
// transaction: behind a transaction-pooling proxy a session's SET may meet
// another server connection. remote_apply, stronger, is kept.
constexpr const char* kDurableCommit =
    "SELECT set_config('synchronous_commit', 'on', true) "
    "WHERE current_setting('synchronous_commit') IN ('off', 'local', 'remote_write')";

// Writes in READ COMMITTED with the host rows locked: each statement sees
// what other stores committed, and no two stores write one host at a time.
// Reads in one REPEATABLE READ snapshot.
SqlDialect PostgresDialect() {
  const std::string begin = absl::StrCat("BEGIN ISOLATION LEVEL READ COMMITTED; ", kDurableCommit);
  return SqlDialect{
      .begin_write = absl::StrCat(begin, "; SELECT pg_advisory_xact_lock_shared(", kWriteLock, ")"),
      .begin_read = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
      .begin_retention = absl::StrCat(begin, "; SELECT pg_advisory_xact_lock(", kWriteLock, ")"),
      .lock_host_row = " FOR UPDATE OF hosts",
      .sole_writer = false};
}

}  // namespace

absl::StatusOr<std::string> ReadPostgresPasswordFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return ErrnoToStatus(errno, absl::StrCat("store.postgres.password_file ", path));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "store.postgres.password_file %s may be read by group or others (mode %04o); "
        "chmod 600 it",
        path, info.st_mode & 07777));
  }
  std::ifstream in(path);
  std::string password;
  if (!in || !std::getline(in, password) || password.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("store.postgres.password_file ", path,
                                                   " holds no password on its first line"));
  }
  if (password.back() == '\r') password.pop_back();
  return password;
}

namespace {

absl::StatusOr<std::unique_ptr<sql::Connection>> Connect(const PostgresOptions& options,
                                                         const std::string& password) {
  ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> connection,
                   postgres::Connection::Open(options.dsn, password));
  return std::unique_ptr<sql::Connection>(std::move(connection));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<PostgresStore> store, PostgresStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

absl::StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresOptions& options) {
  if (options.dsn.empty()) return absl::InvalidArgumentError("no PostgreSQL connection string");
  if (options.max_readers < 1) return absl::InvalidArgumentError("max_readers must be at least 1");
  RETURN_IF_ERROR(postgres::CheckDsn(options.dsn));
  std::string password;
  if (!options.password_file.empty()) {
    ASSIGN_OR_RETURN(password, ReadPostgresPasswordFile(options.password_file));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<postgres::Connection> writer,
                   postgres::Connection::Open(options.dsn, password));
  RETURN_IF_ERROR(postgres::Migrate(*writer));
  std::unique_ptr<PostgresStore> store(
      new PostgresStore(options, std::move(password), std::move(writer)));
  // Other collectors' streams stay: only this process's rows are cleared.
  RETURN_IF_ERROR(store->StartLiveness(/*only_store=*/false));
  return store;
}

PostgresStore::PostgresStore(PostgresOptions options, std::string password,
                             std::unique_ptr<sql::Connection> writer)
    : SqlStore(PostgresDialect(), std::move(writer), options.max_readers, options.liveness),
      options_(std::move(options)),
      password_(std::move(password)) {}

PostgresStore::~PostgresStore() { StopLiveness(); }

absl::StatusOr<std::unique_ptr<sql::Connection>> PostgresStore::OpenReader() {
  return Connect(options_, password_);
}

absl::StatusOr<std::unique_ptr<sql::Connection>> PostgresStore::ReopenWriter() {
  return Connect(options_, password_);
}

absl::StatusOr<uint64_t> PostgresStore::DatabaseBytes(sql::Connection& reader) {
  ASSIGN_OR_RETURN(const int64_t bytes,
                   reader.QueryInt("SELECT pg_database_size(current_database())"));
  return static_cast<uint64_t>(bytes);
}

}  // namespace fscanary::store
