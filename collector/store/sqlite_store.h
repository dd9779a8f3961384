#pragma once
// The embedded Store: one SQLite database in WAL mode (docs/STORE.md).
//
// One writer connection behind a mutex does every write, so transactions
// never wait on each other inside SQLite; a small pool of read-only
// connections serves queries concurrently, each on a WAL snapshot.
// synchronous=FULL makes every commit fsync the WAL, so an acknowledged
// record survives a power loss, not just a crash of the process.

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "collector/store/sqlite_connection.h"
#include "collector/store/store.h"
#include "io/posix.h"

namespace fscanary::store {

class SqliteStore final : public Store {
 public:
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);

  absl::StatusOr<std::vector<std::vector<RecordResult>>> IngestBatches(
      std::span<const AgentBatch> batches, int64_t received_unix_nanos) override;
  absl::Status RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                           int64_t now_unix_nanos) override;
  absl::Status Touch(const std::string& agent_id, int64_t now_unix_nanos) override;
  absl::Status TouchHosts(const std::map<std::string, int64_t>& last_heard) override;
  absl::Status SetConnected(const std::string& agent_id, bool connected,
                            int64_t now_unix_nanos) override;

  absl::StatusOr<v1::ListHostsResponse> ListHosts(const v1::ListHostsRequest& page = {}) override;
  absl::StatusOr<v1::ListFindingsResponse> ListFindings(
      const v1::ListFindingsRequest& request) override;
  absl::StatusOr<v1::GetHostResponse> GetHost(const std::string& agent_id) override;
  absl::StatusOr<std::vector<EpochRecord>> ListEpochs() override;
  absl::StatusOr<StoreStats> GetStats() override;
  absl::StatusOr<std::vector<HostActivity>> ListHostActivity() override;
  absl::StatusOr<uint64_t> MaxSequence(const std::string& agent_id) override;

  absl::StatusOr<RetentionResult> ApplyRetention(const RetentionPolicy& policy,
                                                 int64_t now_unix_nanos) override;

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
  };

  SqliteStore(SqliteOptions options, io::UniqueFd lock, std::unique_ptr<sqlite::Connection> writer);

  // Runs `body` (returning absl::Status) under writer_mutex_ in one immediate
  // transaction on the writer, and commits it if `body` succeeded.
  template <typename Body>
  absl::Status WriteTransaction(Body&& body);
  // Write path (sqlite_ingest.cc, sqlite_epochs.cc): inside WriteTransaction.
  absl::StatusOr<HostState*> LoadHost(const std::string& agent_id, int64_t received_ns);
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

  // Retention (sqlite_retention.cc): deletes the rows of `table` that match
  // `where` (?1 is bound to `cutoff_ns`), with their ledger entries, in
  // transactions of at most kRetentionChunk rows. Returns the rows deleted.
  // `before_delete`, if not empty, runs for each row first (?1: its id).
  absl::StatusOr<uint64_t> DeleteInChunks(const std::string& table, const std::string& id_column,
                                          const std::string& where, int64_t cutoff_ns,
                                          const std::string& before_delete = "");
  // Folds the expired epochs (?1: the cutoff) into one aggregate epoch per
  // host and facts, kRetentionChunk epochs per transaction.
  absl::Status RollUpEpochs(int64_t cutoff_ns, RetentionResult& result);
  // Leaves each aggregate epoch at most one spool-loss row, their sums.
  absl::Status CollapseSpoolLosses();
  static constexpr int64_t kRetentionChunk = 2000;

  // Read path: a pooled read-only connection inside a read transaction, so
  // every query of one call sees the same snapshot.
  class Reader {
   public:
    Reader(SqliteStore* store, std::unique_ptr<sqlite::Connection> connection,
           sqlite::Transaction transaction)
        : store_(store), connection_(std::move(connection)), transaction_(std::move(transaction)) {}
    Reader(Reader&& other) noexcept = default;
    Reader& operator=(Reader&&) = delete;
    // Ends the read transaction and returns the connection to the pool.
    ~Reader() {
      transaction_.reset();
      if (connection_ != nullptr) store_->ReleaseReader(std::move(connection_));
    }
    sqlite::Connection& db() { return *connection_; }

   private:
    SqliteStore* store_;
    std::unique_ptr<sqlite::Connection> connection_;
    std::optional<sqlite::Transaction> transaction_;
  };
  absl::StatusOr<Reader> AcquireReader();
  void ReleaseReader(std::unique_ptr<sqlite::Connection> connection);

  const SqliteOptions options_;
  // Declared first so that it is released last, after every connection closed.
  io::UniqueFd lock_;

  std::mutex writer_mutex_;
  std::unique_ptr<sqlite::Connection> writer_;
  absl::flat_hash_map<std::string, HostState> hosts_;

  std::mutex readers_mutex_;
  std::condition_variable reader_released_;
  std::vector<std::unique_ptr<sqlite::Connection>> idle_readers_;
  int open_readers_ = 0;
};

template <typename Body>
absl::Status SqliteStore::WriteTransaction(Body&& body) {
  std::lock_guard lock(writer_mutex_);
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<sqlite::Transaction> transaction =
        sqlite::Transaction::Begin(*writer_, sqlite::Transaction::Kind::kImmediate);
    if (!transaction.ok()) return transaction.status();
    if (absl::Status done = body(); !done.ok()) return done;
    return transaction->Commit();
  }();
  if (!status.ok()) hosts_.clear();
  return status;
}

}  // namespace fscanary::store
