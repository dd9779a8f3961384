// Opening the SQLite store, its reader pool, and the small writes and reads
// that are not ingest, queries or retention.

#include "collector/store/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
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
  // A new process has no open streams, whatever the last one recorded.
  RETURN_IF_ERROR(writer->Exec("UPDATE hosts SET connected = 0 WHERE connected != 0"));

  return std::unique_ptr<SqliteStore>(new SqliteStore(options, std::move(lock), std::move(writer)));
}

SqliteStore::SqliteStore(SqliteOptions options, io::UniqueFd lock,
                         std::unique_ptr<sqlite::Connection> writer)
    : options_(std::move(options)), lock_(std::move(lock)), writer_(std::move(writer)) {}

absl::StatusOr<SqliteStore::Reader> SqliteStore::AcquireReader() {
  std::unique_ptr<Connection> connection;
  {
    std::unique_lock lock(readers_mutex_);
    reader_released_.wait(
        lock, [this] { return !idle_readers_.empty() || open_readers_ < options_.max_readers; });
    if (!idle_readers_.empty()) {
      connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;  // a slot, filled below
    }
  }
  if (connection == nullptr) {
    absl::StatusOr<std::unique_ptr<Connection>> opened =
        Connection::Open(options_.path, Access::kReadOnly, options_.busy_timeout_ms);
    if (!opened.ok()) {
      {
        std::lock_guard lock(readers_mutex_);
        --open_readers_;
      }
      reader_released_.notify_one();
      return opened.status();
    }
    connection = *std::move(opened);
  }
  absl::StatusOr<sqlite::Transaction> transaction =
      sqlite::Transaction::Begin(*connection, sqlite::Transaction::Kind::kRead);
  if (!transaction.ok()) {
    ReleaseReader(std::move(connection));
    return transaction.status();
  }
  return Reader(this, std::move(connection), *std::move(transaction));
}

void SqliteStore::ReleaseReader(std::unique_ptr<sqlite::Connection> connection) {
  {
    std::lock_guard lock(readers_mutex_);
    idle_readers_.push_back(std::move(connection));
  }
  reader_released_.notify_one();
}

absl::Status SqliteStore::RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                                      int64_t now_unix_nanos) {
  if (!message.has_hello()) return absl::InvalidArgumentError("RecordHello without a Hello");
  return WriteTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
    RETURN_IF_ERROR(IngestOne(*host, message, now_unix_nanos).status());
    ASSIGN_OR_RETURN(sqlite::Statement update,
                     writer_->Prepare("UPDATE hosts SET connected = connected + 1, "
                                      "last_seen_ns = max(last_seen_ns, ?2) WHERE host_id = ?1"));
    return update.Bind(1, host->host_id).Bind(2, now_unix_nanos).Run();
  });
}

absl::Status SqliteStore::Touch(const std::string& agent_id, int64_t now_unix_nanos) {
  return WriteTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
    ASSIGN_OR_RETURN(sqlite::Statement update,
                     writer_->Prepare("UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?2) "
                                      "WHERE host_id = ?1"));
    return update.Bind(1, host->host_id).Bind(2, now_unix_nanos).Run();
  });
}

absl::Status SqliteStore::TouchHosts(const std::map<std::string, int64_t>& last_heard) {
  if (last_heard.empty()) return absl::OkStatus();
  return WriteTransaction([&]() -> absl::Status {
    for (const auto& [agent_id, heard_unix_nanos] : last_heard) {
      // Prepared once and cached by the connection; reset as it goes out of scope.
      ASSIGN_OR_RETURN(sqlite::Statement update,
                       writer_->Prepare("UPDATE hosts SET last_seen_ns = max(last_seen_ns, ?2) "
                                        "WHERE agent_id = ?1"));
      RETURN_IF_ERROR(update.BindText(1, agent_id).Bind(2, heard_unix_nanos).Run());
    }
    return absl::OkStatus();
  });
}

absl::Status SqliteStore::SetConnected(const std::string& agent_id, bool connected,
                                       int64_t now_unix_nanos) {
  // A count of open streams: an agent that reconnects before its old stream
  // ended stays connected when the old one closes.
  return WriteTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
    ASSIGN_OR_RETURN(sqlite::Statement update,
                     writer_->Prepare("UPDATE hosts SET connected = max(connected + ?2, 0), "
                                      "last_seen_ns = max(last_seen_ns, ?3) WHERE host_id = ?1"));
    return update.Bind(1, host->host_id).Bind(2, connected ? 1 : -1).Bind(3, now_unix_nanos).Run();
  });
}

absl::StatusOr<uint64_t> SqliteStore::MaxSequence(const std::string& agent_id) {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  ASSIGN_OR_RETURN(sqlite::Statement query,
                   reader.db().Prepare("SELECT max_sequence FROM hosts WHERE agent_id = ?1"));
  ASSIGN_OR_RETURN(const bool found, query.BindText(1, agent_id).Step());
  return found ? static_cast<uint64_t>(query.Int(0)) : 0;
}

absl::StatusOr<StoreStats> SqliteStore::GetStats() {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  Connection& db = reader.db();
  StoreStats stats;
  {
    ASSIGN_OR_RETURN(sqlite::Statement hosts,
                     db.Prepare("SELECT count(*), total(connected > 0) FROM hosts"));
    ASSIGN_OR_RETURN(const bool row, hosts.Step());
    if (row) {
      stats.hosts = static_cast<uint64_t>(hosts.Int(0));
      stats.hosts_connected = static_cast<uint64_t>(hosts.Int(1));
    }
  }
  ASSIGN_OR_RETURN(const int64_t epochs, db.QueryInt("SELECT count(*) FROM epochs"));
  ASSIGN_OR_RETURN(const int64_t reports, db.QueryInt("SELECT count(*) FROM reports"));
  stats.epochs = static_cast<uint64_t>(epochs);
  stats.reports = static_cast<uint64_t>(reports);
  {
    ASSIGN_OR_RETURN(sqlite::Statement kinds,
                     db.Prepare("SELECT kind, count(*) FROM findings GROUP BY kind UNION ALL "
                                "SELECT kind, sat_sum(findings) FROM retired_findings "
                                "GROUP BY kind"));
    while (true) {
      ASSIGN_OR_RETURN(const bool row, kinds.Step());
      if (!row) break;
      stats.findings_by_kind[static_cast<v1::FindingKind>(kinds.Int(0))] +=
          static_cast<uint64_t>(kinds.Int(1));
    }
  }
  {
    ASSIGN_OR_RETURN(sqlite::Statement losses,
                     db.Prepare("SELECT sat_sum(reports_summarised), sat_sum(reports_dropped), "
                                "sat_sum(findings_dropped), sat_sum(damaged_records_skipped) "
                                "FROM spool_losses"));
    ASSIGN_OR_RETURN(const bool row, losses.Step());
    if (row) {
      stats.spool_loss.set_reports_summarised(static_cast<uint64_t>(losses.Int(0)));
      stats.spool_loss.set_reports_dropped(static_cast<uint64_t>(losses.Int(1)));
      stats.spool_loss.set_findings_dropped(static_cast<uint64_t>(losses.Int(2)));
      stats.spool_loss.set_damaged_records_skipped(static_cast<uint64_t>(losses.Int(3)));
    }
  }
  stats.database_bytes = FileBytes(options_.path) + FileBytes(options_.path + "-wal");
  return stats;
}

}  // namespace fscanary::store
