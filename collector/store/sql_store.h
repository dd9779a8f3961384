#pragma once
// The store's logic written once over sql::Connection (docs/STORE.md): the
// write path (ingest, epochs, retention) and the queries. An engine's store
// (sqlite_store.h, postgres_store.h) opens the database, says how its
// transactions begin, and opens reader connections.
//
// One writer connection behind a mutex does every write of this store, so
// its transactions never wait on each other inside the database; a small pool
// of reader connections serves queries concurrently, each call in one read
// transaction (one snapshot).

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "collector/store/sql_connection.h"
#include "collector/store/store.h"
#include "common/status.h"

namespace fscanary::store {

// What differs between engines in the SQL the store runs.
struct SqlDialect {
  // Begins the writer's transaction; a read transaction (one snapshot).
  std::string begin_write;
  std::string begin_read;
  // Begins a retention transaction: where stores share the database, it
  // waits for every other write transaction and holds them off, so what one
  // chunk reads stays what it writes over, as when the store is the only
  // writer (ingest waits at most one chunk).
  std::string begin_retention;
  // Appended to the query of a host's row in a write transaction: locks it
  // until the transaction ends where several stores share the database.
  std::string lock_host_row;
  // Whether the write path may keep what it knows of a host (its current
  // epoch, highest sequence) from one transaction to the next: only where
  // this store is the database's one writer.
  bool sole_writer = true;
};

class SqlStore : public Store {
 public:
  ~SqlStore() override;

  absl::StatusOr<std::vector<std::vector<RecordResult>>> IngestBatches(
      std::span<const AgentBatch> batches, int64_t received_unix_nanos) override;
  absl::Status RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                           int64_t now_unix_nanos) override;
  absl::Status Touch(const std::string& agent_id, int64_t now_unix_nanos) override;
  absl::Status TouchHosts(const std::map<std::string, int64_t>& last_heard) override;
  absl::Status SetConnected(const std::string& agent_id, bool connected,
                            int64_t now_unix_nanos) override;
  absl::StatusOr<std::vector<absl::Status>> RecordSessions(std::span<const SessionChange> changes,
                                                           int64_t now_unix_nanos) override;

  absl::StatusOr<v1::ListHostsResponse> ListHosts(const v1::ListHostsRequest& page = {}) override;
  absl::StatusOr<v1::ListFindingsResponse> ListFindings(
      const v1::ListFindingsRequest& request) override;
  absl::StatusOr<v1::GetHostResponse> GetHost(const std::string& agent_id) override;
  absl::StatusOr<std::vector<EpochRecord>> ListEpochs() override;
  absl::StatusOr<EpochChanges> ListEpochsChangedSince(int64_t since_unix_nanos) override;
  absl::StatusOr<StoreStats> GetStats() override;
  absl::StatusOr<std::vector<HostActivity>> ListHostActivity() override;
  absl::StatusOr<uint64_t> MaxSequence(const std::string& agent_id) override;

  absl::StatusOr<RetentionResult> ApplyRetention(const RetentionPolicy& policy,
                                                 int64_t now_unix_nanos) override;

  absl::Status RenewLease() override;
  const std::string& instance_id() const override { return liveness_.instance_id; }

 protected:
  SqlStore(SqlDialect dialect, std::unique_ptr<sql::Connection> writer, int max_readers,
           LivenessOptions liveness);

  // Liveness (sql_liveness.cc). Start, once the store is constructed: clears
  // this store's stream rows (every store's when `only_store`), forgets
  // stores whose lease lapsed over a lease ago, takes a lease and renews it
  // on a thread of its own. Stop, in the engine's destructor (the thread
  // uses the writer, which ReopenWriter may replace): ends the renewal and
  // removes this store's rows (its streams are over).
  absl::Status StartLiveness(bool only_store);
  void StopLiveness();

  // A new connection for the reader pool.
  virtual absl::StatusOr<std::unique_ptr<sql::Connection>> OpenReader() = 0;
  // A new writer connection, when the writer's was lost.
  virtual absl::StatusOr<std::unique_ptr<sql::Connection>> ReopenWriter() {
    return absl::UnavailableError(absl::StrCat(writer_->name(), ": the connection was lost"));
  }
  // The bytes the database takes, for StoreStats (inside a read transaction).
  virtual absl::StatusOr<uint64_t> DatabaseBytes(sql::Connection& reader) = 0;

 private:
  struct EpochRef {
    int64_t id = 0;
    int64_t number = 0;
    int64_t start_ns = 0;
  };
  // What the write path needs to know of a host without asking the database.
  // Cached for the store's life; dropped whenever a write transaction fails,
  // since it may describe rows that were rolled back.
  struct HostState {
    int64_t host_id = 0;
    int64_t max_sequence = 0;
    // Agent clock of the newest facts applied: older ones are ignored.
    int64_t facts_as_of_ns = 0;
    // The newest epoch, if any; it holds no facts while the host sent none.
    std::optional<EpochRef> current;
    bool current_has_facts = false;
    // EpochFingerprint of the current epoch's facts, once computed.
    std::optional<std::string> fingerprint;
    // The newest reported_ns of the host's checker_health rows (0: none),
    // once read.
    std::optional<int64_t> checkers_reported_ns;
  };

  // Runs `body` (returning absl::Status) under writer_mutex_ in one write
  // transaction on the writer, and commits it if `body` succeeded. A
  // transaction the database aborted (Aborted: a deadlock or serialization
  // failure between stores sharing it) is run again, up to `attempts` times
  // in all; `body` must then start afresh each time.
  template <typename Body>
  absl::Status WriteTransaction(Body&& body, int attempts = 1) {
    return Transact(dialect_.begin_write, body, attempts);
  }
  // WriteTransaction for retention, begun with the dialect's begin_retention.
  template <typename Body>
  absl::Status RetentionTransaction(Body&& body) {
    return Transact(dialect_.begin_retention, body, 1);
  }
  template <typename Body>
  absl::Status Transact(const std::string& begin, Body& body, int attempts);
  // Runs `item(i)` (absl::Status) for each of `items` in one write
  // transaction begun by `lock()`, where a failing item fails alone:
  // `failed(i, status)` is told, its writes are rolled back, the other
  // items' are committed. First without a savepoint (each costs a
  // subtransaction, and past 64 in one transaction PostgreSQL's snapshots
  // slow down for every session); only when an item fails is the
  // transaction run again with a savepoint per item, to tell which.
  template <typename Lock, typename Item, typename Failed>
  absl::Status WriteEach(std::span<const size_t> items, Lock&& lock, Item&& item, Failed&& failed);
  // What the store refuses of a record without asking the database.
  static absl::Status CheckRecord(const v1::AgentMessage& message);
  // Write path (sql_ingest.cc, sql_epochs.cc): inside WriteTransaction.
  absl::StatusOr<HostState*> LoadHost(const std::string& agent_id, int64_t received_ns);
  // The host's row into `host`, locked where stores share the database;
  // false when there is none.
  absl::StatusOr<bool> ReadHostRow(const std::string& agent_id, HostState& host);
  // RecordHello and SetConnected inside a write transaction; `host_id`
  // (when given) is the host's, for AppliedStreamChange once committed.
  absl::Status HelloInTransaction(const std::string& agent_id, const v1::AgentMessage& message,
                                  int64_t now_unix_nanos, int64_t* host_id = nullptr);
  absl::Status ConnectedInTransaction(const std::string& agent_id, bool connected,
                                      int64_t now_unix_nanos, int64_t* host_id = nullptr);
  // A committed stream change into streams_.
  void AppliedStreamChange(int64_t host_id, int delta);
  // A stream's end the database did not take: retried at each lease renewal.
  void CloseLater(const std::string& agent_id);
  void RetryPendingCloses();
  // One agent's records, inside the savepoint IngestBatches gives it.
  absl::StatusOr<std::vector<RecordResult>> IngestAgentBatch(const AgentBatch& batch,
                                                             int64_t received_ns);
  absl::StatusOr<RecordResult> IngestOne(HostState& host, const v1::AgentMessage& message,
                                         int64_t received_ns);
  absl::Status ApplyHello(HostState& host, const v1::Hello& hello, int64_t created_ns);
  absl::Status ApplyFacts(HostState& host, const v1::HostFacts& facts, int64_t created_ns);
  absl::StatusOr<std::string> CurrentFingerprint(HostState& host);
  absl::Status MoveRecordsToEpoch(int64_t from_epoch, int64_t to_epoch, int64_t from_ns);
  absl::StatusOr<EpochRef> EpochAt(HostState& host, int64_t created_ns);
  absl::StatusOr<EpochRef> InsertEpoch(HostState& host, int64_t start_ns, const std::string* facts,
                                       const std::string& kernel_config_sha256);
  absl::Status StoreReport(HostState& host, const v1::AgentMessage& message, int64_t created_ns,
                           int64_t received_ns);
  absl::Status StoreFinding(HostState& host, const v1::AgentMessage& message, int64_t created_ns,
                            int64_t received_ns);
  absl::Status StoreCheckerHealth(HostState& host, const v1::IntervalReport& report,
                                  int64_t created_ns);
  absl::Status StoreSpoolLoss(HostState& host, const v1::AgentMessage& message, int64_t created_ns,
                              int64_t received_ns);

  // Retention (sql_retention.cc): deletes the rows of `table` that match
  // `where` (?1 is bound to `cutoff_ns`), with the ledger entries of those
  // received before `cutoff_ns`, in
  // transactions of at most kRetentionChunk rows. Returns the rows deleted.
  // `before_delete`, if not empty, runs for each row first (?1: its id).
  absl::StatusOr<uint64_t> DeleteInChunks(const std::string& table, const std::string& id_column,
                                          const std::string& where, int64_t cutoff_ns,
                                          const std::string& before_delete = "");
  // Folds the expired epochs (?1: the cutoff) into one aggregate epoch per
  // host and facts, kRetentionChunk epochs per transaction; marks their
  // hosts' epochs changed at `now_ns`.
  absl::Status RollUpEpochs(int64_t cutoff_ns, int64_t now_ns, RetentionResult& result);
  // Leaves each aggregate epoch at most one spool-loss row, their sums;
  // forgets the ledger entries of those received before `cutoff_ns`.
  absl::Status CollapseSpoolLosses(int64_t cutoff_ns);
  static constexpr int64_t kRetentionChunk = 2000;
  // How often a write of ingest or of a session runs when the database
  // aborts it (a deadlock between stores sharing it).
  static constexpr int kWriteAttempts = 3;

  // Read path: a pooled read-only connection inside a read transaction, so
  // every query of one call sees the same snapshot.
  class Reader {
   public:
    Reader(SqlStore* store, std::unique_ptr<sql::Connection> connection,
           sql::Transaction transaction)
        : store_(store), connection_(std::move(connection)), transaction_(std::move(transaction)) {}
    Reader(Reader&& other) noexcept = default;
    Reader& operator=(Reader&&) = delete;
    // Ends the read transaction and returns the connection to the pool.
    ~Reader() {
      transaction_.reset();
      if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
    }
    sql::Connection& db() { return *connection_; }

   private:
    SqlStore* store_;
    std::unique_ptr<sql::Connection> connection_;
    std::optional<sql::Transaction> transaction_;
  };
  absl::StatusOr<Reader> AcquireReader();
  // The epochs of every host (`since` empty), or of the hosts whose epochs
  // changed at or after *since, by agent id then number.
  absl::StatusOr<std::vector<EpochRecord>> ReadEpochs(sql::Connection& db,
                                                      std::optional<int64_t> since);
  void ReleaseReader(std::unique_ptr<sql::Connection> connection);
  // Locks the rows of these hosts (those that exist), in agent id order, so
  // that stores sharing the database take them in one order.
  absl::Status LockHosts(std::span<const AgentBatch> batches);

  // The hosts with a stream open on a store whose lease has not lapsed.
  absl::StatusOr<absl::flat_hash_set<int64_t>> ConnectedHostIds(sql::Connection& db);
  int64_t Now() const { return liveness_.now_unix_nanos(); }
  // Adds `delta` to this store's streams of the host, in its row and in
  // streams_ (applied to streams_ by the caller once committed).
  absl::Status CountStream(int64_t host_id, int delta);
  void RenewalLoop();

  const SqlDialect dialect_;
  const int max_readers_;
  // instance_id and the clock are filled in by the constructor.
  LivenessOptions liveness_;
  // This store's open streams per host_id, as its rows should say: written
  // back when another store forgot them (this one's lease had lapsed).
  std::mutex streams_mutex_;
  absl::flat_hash_map<int64_t, int64_t> streams_;
  // Agents whose stream ended but whose close failed to commit.
  std::vector<std::string> pending_closes_;
  std::mutex renewal_mutex_;
  std::condition_variable renewal_wake_;
  bool renewal_stop_ = false;
  std::thread renewal_;

  std::mutex writer_mutex_;
  std::unique_ptr<sql::Connection> writer_;
  absl::flat_hash_map<std::string, HostState> hosts_;

  std::mutex readers_mutex_;
  std::condition_variable reader_released_;
  std::vector<std::unique_ptr<sql::Connection>> idle_readers_;
  int open_readers_ = 0;
};

template <typename Body>
absl::Status SqlStore::Transact(const std::string& begin, Body& body, int attempts) {
  std::lock_guard lock(writer_mutex_);
  absl::Status status;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    status = [&]() -> absl::Status {
      if (writer_->Broken()) {
        absl::StatusOr<std::unique_ptr<sql::Connection>> reopened = ReopenWriter();
        if (!reopened.ok()) return reopened.status();
        writer_ = *std::move(reopened);
      }
      // What the cache says of a host is only right while nobody else writes.
      if (!dialect_.sole_writer) hosts_.clear();
      absl::StatusOr<sql::Transaction> transaction = sql::Transaction::Begin(*writer_, begin);
      if (!transaction.ok()) return transaction.status();
      if (absl::Status done = body(); !done.ok()) return done;
      return transaction->Commit();
    }();
    if (!status.ok()) hosts_.clear();
    if (status.code() != absl::StatusCode::kAborted) break;
  }
  return status;
}

template <typename Lock, typename Item, typename Failed>
absl::Status SqlStore::WriteEach(std::span<const size_t> items, Lock&& lock, Item&& item,
                                 Failed&& failed) {
  bool isolate = false;
  bool item_failed = false;
  const auto body = [&]() -> absl::Status {
    item_failed = false;
    RETURN_IF_ERROR(lock());
    for (const size_t i : items) {
      if (!isolate) {
        if (absl::Status done = item(i); !done.ok()) {
          item_failed = true;
          return done;
        }
        continue;
      }
      RETURN_IF_ERROR(writer_->Exec("SAVEPOINT item"));
      absl::Status done = item(i);
      // Writes still under way are this item's: their failure is too.
      if (done.ok()) done = writer_->Flush();
      if (done.ok()) {
        RETURN_IF_ERROR(writer_->Exec("RELEASE item"));
        continue;
      }
      // The database gave up this transaction, not this item: all of it
      // runs again.
      if (done.code() == absl::StatusCode::kAborted) return done;
      RETURN_IF_ERROR(writer_->Exec("ROLLBACK TO item; RELEASE item"));
      failed(i, done);
    }
    if (!isolate) {
      // One of the items' writes still under way may fail.
      if (absl::Status done = writer_->Flush(); !done.ok()) {
        item_failed = true;
        return done;
      }
    }
    return absl::OkStatus();
  };
  absl::Status written = WriteTransaction(body, kWriteAttempts);
  // A deadlock (Aborted) was run again already; a lost connection fails the
  // call as before. Anything else an item did: again, telling which.
  if (!written.ok() && item_failed && written.code() != absl::StatusCode::kAborted &&
      written.code() != absl::StatusCode::kUnavailable) {
    isolate = true;
    written = WriteTransaction(body, kWriteAttempts);
  }
  return written;
}

}  // namespace fscanary::store
