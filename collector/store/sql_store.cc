// The store's reader pool, and the small writes and reads that are not
// ingest, queries or retention, for every engine.

#include "collector/store/sql_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace fscanary::store {

using sql::Connection;

SqlStore::~SqlStore() {
  // The engines stop it themselves (StopLiveness); this is the safety net.
  {
    std::lock_guard lock(renewal_mutex_);
    renewal_stop_ = true;
  }
  renewal_wake_.notify_all();
  if (renewal_.joinable()) renewal_.join();
}

absl::StatusOr<SqlStore::Reader> SqlStore::AcquireReader() {
  std::unique_ptr<Connection> connection;
  {
    std::unique_lock lock(readers_mutex_);
    reader_released_.wait(
        lock, [this] { return !idle_readers_.empty() || open_readers_ < max_readers_; });
    if (!idle_readers_.empty()) {
      connection = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;  // a slot, filled below
    }
  }
  if (connection == nullptr) {
    absl::StatusOr<std::unique_ptr<Connection>> opened = OpenReader();
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
  absl::StatusOr<sql::Transaction> transaction =
      sql::Transaction::Begin(*connection, dialect_.begin_read);
  if (!transaction.ok()) {
    ReleaseReader(std::move(connection));
    return transaction.status();
  }
  return Reader(this, std::move(connection), *std::move(transaction));
}

void SqlStore::ReleaseReader(std::unique_ptr<sql::Connection> connection) {
  {
    std::lock_guard lock(readers_mutex_);
    if (connection->Broken()) {
      --open_readers_;  // its slot is free for a new connection
    } else {
      idle_readers_.push_back(std::move(connection));
    }
  }
  reader_released_.notify_one();
}

absl::Status SqlStore::RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                                   int64_t now_unix_nanos) {
  int64_t host_id = 0;
  RETURN_IF_ERROR(WriteTransaction(
      [&] { return HelloInTransaction(agent_id, message, now_unix_nanos, &host_id); },
      kWriteAttempts));
  AppliedStreamChange(host_id, +1);
  return absl::OkStatus();
}

absl::Status SqlStore::HelloInTransaction(const std::string& agent_id,
                                          const v1::AgentMessage& message, int64_t now_unix_nanos,
                                          int64_t* host_id) {
  if (!message.has_hello()) return absl::InvalidArgumentError("RecordHello without a Hello");
  ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
  RETURN_IF_ERROR(IngestOne(*host, message, now_unix_nanos).status());
  RETURN_IF_ERROR(CountStream(host->host_id, +1));
  ASSIGN_OR_RETURN(sql::Statement update,
                   writer_->Prepare("UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, ?2), "
                                    "epochs_changed_ns = greatest(epochs_changed_ns, ?2) "
                                    "WHERE host_id = ?1"));
  RETURN_IF_ERROR(update.Bind(1, host->host_id).Bind(2, now_unix_nanos).Send());
  if (host_id != nullptr) *host_id = host->host_id;
  return absl::OkStatus();
}

absl::Status SqlStore::Touch(const std::string& agent_id, int64_t now_unix_nanos) {
  return WriteTransaction(
      [&]() -> absl::Status {
        ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
        ASSIGN_OR_RETURN(
            sql::Statement update,
            writer_->Prepare("UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, ?2) "
                             "WHERE host_id = ?1"));
        return update.Bind(1, host->host_id).Bind(2, now_unix_nanos).Send();
      },
      kWriteAttempts);
}

absl::Status SqlStore::TouchHosts(const std::map<std::string, int64_t>& last_heard) {
  if (last_heard.empty()) return absl::OkStatus();
  return WriteTransaction(
      [&]() -> absl::Status {
        for (const auto& [agent_id, heard_unix_nanos] : last_heard) {
          // Prepared once and cached by the connection; reset as it goes out of scope.
          ASSIGN_OR_RETURN(
              sql::Statement update,
              writer_->Prepare("UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, ?2) "
                               "WHERE agent_id = ?1"));
          RETURN_IF_ERROR(update.BindText(1, agent_id).Bind(2, heard_unix_nanos).Send());
        }
        return absl::OkStatus();
      },
      kWriteAttempts);
}

absl::Status SqlStore::SetConnected(const std::string& agent_id, bool connected,
                                    int64_t now_unix_nanos) {
  int64_t host_id = 0;
  const absl::Status written = WriteTransaction(
      [&] { return ConnectedInTransaction(agent_id, connected, now_unix_nanos, &host_id); },
      kWriteAttempts);
  if (!written.ok()) {
    if (!connected) CloseLater(agent_id);
    return written;
  }
  AppliedStreamChange(host_id, connected ? +1 : -1);
  return absl::OkStatus();
}

void SqlStore::CloseLater(const std::string& agent_id) {
  std::lock_guard lock(streams_mutex_);
  pending_closes_.push_back(agent_id);
}

void SqlStore::RetryPendingCloses() {
  std::vector<std::string> closes;
  {
    std::lock_guard lock(streams_mutex_);
    closes.swap(pending_closes_);
  }
  // Each failure goes back on the list (SetConnected does it).
  for (const std::string& agent_id : closes) (void)SetConnected(agent_id, false, Now());
}

absl::Status SqlStore::ConnectedInTransaction(const std::string& agent_id, bool connected,
                                              int64_t now_unix_nanos, int64_t* host_id) {
  // A count of open streams: an agent that reconnects before its old stream
  // ended stays connected when the old one closes.
  ASSIGN_OR_RETURN(HostState * host, LoadHost(agent_id, now_unix_nanos));
  RETURN_IF_ERROR(CountStream(host->host_id, connected ? +1 : -1));
  ASSIGN_OR_RETURN(sql::Statement update,
                   writer_->Prepare("UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, ?2) "
                                    "WHERE host_id = ?1"));
  RETURN_IF_ERROR(update.Bind(1, host->host_id).Bind(2, now_unix_nanos).Send());
  if (host_id != nullptr) *host_id = host->host_id;
  return absl::OkStatus();
}

void SqlStore::AppliedStreamChange(int64_t host_id, int delta) {
  std::lock_guard lock(streams_mutex_);
  int64_t& count = streams_[host_id];
  count = std::max<int64_t>(count + delta, 0);
  if (count == 0) streams_.erase(host_id);
}

absl::StatusOr<std::vector<absl::Status>> SqlStore::RecordSessions(
    std::span<const SessionChange> changes, int64_t now_unix_nanos) {
  std::vector<absl::Status> applied(changes.size());
  std::vector<int64_t> host_ids(changes.size(), 0);
  std::vector<AgentBatch> hosts;
  hosts.reserve(changes.size());
  for (const SessionChange& change : changes) hosts.push_back({.agent_id = change.agent_id});
  std::vector<size_t> all(changes.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  // What the store refuses of one stream's Hello fails that Hello, never
  // another agent's.
  const absl::Status written = WriteEach(
      all, [&] { return LockHosts(hosts); },
      [&](size_t i) {
        const SessionChange& change = changes[i];
        applied[i] = absl::OkStatus();
        return change.hello != nullptr
                   ? HelloInTransaction(change.agent_id, *change.hello, now_unix_nanos,
                                        &host_ids[i])
                   : ConnectedInTransaction(change.agent_id, false, now_unix_nanos, &host_ids[i]);
      },
      [&](size_t i, const absl::Status& error) {
        hosts_.erase(changes[i].agent_id);
        applied[i] = error;
      });
  // A stream that ended is closed, whatever the database said: a close it
  // could not store is retried until it is (a host must not stay connected
  // for good because its stream ended while the database was away).
  for (size_t i = 0; i < changes.size(); ++i) {
    const bool close = changes[i].hello == nullptr;
    if (written.ok() && applied[i].ok()) {
      AppliedStreamChange(host_ids[i], close ? -1 : +1);
    } else if (close) {
      CloseLater(changes[i].agent_id);
    }
  }
  if (!written.ok()) return written;
  return applied;
}

absl::StatusOr<uint64_t> SqlStore::MaxSequence(const std::string& agent_id) {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  ASSIGN_OR_RETURN(sql::Statement query,
                   reader.db().Prepare("SELECT max_sequence FROM hosts WHERE agent_id = ?1"));
  ASSIGN_OR_RETURN(const bool found, query.BindText(1, agent_id).Step());
  return found ? static_cast<uint64_t>(query.Int(0)) : 0;
}

absl::StatusOr<StoreStats> SqlStore::GetStats() {
  ASSIGN_OR_RETURN(Reader reader, AcquireReader());
  Connection& db = reader.db();
  StoreStats stats;
  {
    ASSIGN_OR_RETURN(const int64_t hosts, db.QueryInt("SELECT count(*) FROM hosts"));
    stats.hosts = static_cast<uint64_t>(hosts);
    ASSIGN_OR_RETURN(const absl::flat_hash_set<int64_t> connected, ConnectedHostIds(db));
    stats.hosts_connected = connected.size();
  }
  ASSIGN_OR_RETURN(const int64_t epochs, db.QueryInt("SELECT count(*) FROM epochs"));
  ASSIGN_OR_RETURN(const int64_t reports, db.QueryInt("SELECT count(*) FROM reports"));
  stats.epochs = static_cast<uint64_t>(epochs);
  stats.reports = static_cast<uint64_t>(reports);
  {
    ASSIGN_OR_RETURN(sql::Statement kinds,
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
    ASSIGN_OR_RETURN(sql::Statement losses,
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
  ASSIGN_OR_RETURN(stats.database_bytes, DatabaseBytes(db));
  return stats;
}

}  // namespace fscanary::store
