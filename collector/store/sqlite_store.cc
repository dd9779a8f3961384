// Opening the SQLite store: the lock that makes it the database's one writer,
// the checks that keep it off files that are not its own, and WAL mode.

#include "collector/store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/store/sqlite_connection.h"
#include "collector/store/sqlite_schema.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

using sqlite::Access;
using sqlite::Connection;

// Per connection, after the file is known to be ours. synchronous=FULL: in WAL
// mode every COMMIT then fsyncs the WAL before it returns, so a committed
// (hence acknowledged) record survives a power loss; NORMAL would sync only at
// checkpoints and could lose the last commits. The WAL is truncated back to
// 64 MiB after a checkpoint so that a burst does not keep the disk space.
constexpr const char* kWriterPragmas =
    "PRAGMA journal_size_limit = 67108864;"
    "PRAGMA cache_size = -16384;"
    "PRAGMA temp_store = MEMORY;";

const char* SynchronousPragma(SqliteOptions::Synchronous synchronous) {
  switch (synchronous) {
    case SqliteOptions::Synchronous::kNormal:
      return "NORMAL";
    case SqliteOptions::Synchronous::kExtra:
      return "EXTRA";
    case SqliteOptions::Synchronous::kFull:
      break;
  }
  return "FULL";
}

absl::Status CheckDirectory(const std::string& path) {
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    return absl::NotFoundError(
        absl::StrCat("directory ", directory.string(), " of database ", path, " does not exist"));
  }
  return absl::OkStatus();
}

bool NonEmptyFileExists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && info.st_size > 0;
}

uint64_t FileBytes(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
}

// SQLite: the write lock taken at BEGIN, so a writer never fails half way for
// want of it; a deferred read transaction is one WAL snapshot.
SqlDialect SqliteDialect() {
  return SqlDialect{.begin_write = "BEGIN IMMEDIATE",
                    .begin_read = "BEGIN DEFERRED",
                    .begin_retention = "BEGIN IMMEDIATE",
                    .lock_host_row = "",
                    .sole_writer = true};
}

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteStore> store, SqliteStore::Open(options));
  return std::unique_ptr<Store>(std::move(store));
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("no database path");
  if (options.max_readers < 1) return absl::InvalidArgumentError("max_readers must be at least 1");
  RETURN_IF_ERROR(CheckDirectory(options.path));

  // Our caches of host state are only right if no other store writes.
  const std::string lock_path = options.path + ".lock";
  ASSIGN_OR_RETURN(io::UniqueFd lock, io::Open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (absl::Status locked = io::LockFile(lock.get(), /*exclusive=*/true, lock_path); !locked.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("database ", options.path,
                     " is in use by another collector: ", std::string(locked.message())));
  }

  const bool existed = NonEmptyFileExists(options.path);
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                   Connection::Open(options.path, Access::kReadWrite, options.busy_timeout_ms));
  // Nothing is written before the file is known to be empty or ours.
  RETURN_IF_ERROR(sqlite::CheckDatabaseIdentity(*writer));
  ASSIGN_OR_RETURN(const std::string journal_mode, writer->QueryText("PRAGMA journal_mode = WAL"));
  if (journal_mode != "wal") {
    return absl::FailedPreconditionError(absl::StrCat(
        "database ", options.path, ": cannot use write-ahead logging (journal mode stays ",
        journal_mode, "); is the filesystem local and writable?"));
  }
  RETURN_IF_ERROR(writer->Exec(kWriterPragmas));
  RETURN_IF_ERROR(writer->Exec(
      absl::StrCat("PRAGMA synchronous = ", SynchronousPragma(options.synchronous), ";")));
  RETURN_IF_ERROR(sqlite::Migrate(*writer));
  if (!existed) {
    // SQLite syncs the WAL's directory entry, not the main file's.
    std::string directory = std::filesystem::path(options.path).parent_path().string();
    RETURN_IF_ERROR(io::SyncDirectory(directory.empty() ? "." : directory));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(lock), std::move(writer)));
  // The lock makes this the database's one store: every stream row left is
  // a dead process's.
  RETURN_IF_ERROR(store->StartLiveness(/*only_store=*/true));
  return store;
}

SqliteStore::SqliteStore(SqliteOptions options, io::UniqueFd lock,
                         std::unique_ptr<sql::Connection> writer)
    : SqlStore(SqliteDialect(), std::move(writer), options.max_readers, options.liveness),
      options_(std::move(options)),
      lock_(std::move(lock)) {}

// The connections close in ~SqlStore, after lock_ is released here: harmless,
// since a second store that takes the lock in between only opens connections
// of its own (SQLite's own locks order the writers).
SqliteStore::~SqliteStore() { StopLiveness(); }

absl::StatusOr<std::unique_ptr<sql::Connection>> SqliteStore::OpenReader() {
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                   Connection::Open(options_.path, Access::kReadOnly, options_.busy_timeout_ms));
  return std::unique_ptr<sql::Connection>(std::move(reader));
}

absl::StatusOr<uint64_t> SqliteStore::DatabaseBytes(sql::Connection&) {
  return FileBytes(options_.path) + FileBytes(options_.path + "-wal");
}

}  // namespace fscanary::store
