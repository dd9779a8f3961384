#pragma once
// The collector's storage: hosts, host epochs, interval reports, findings and
// spool-loss records, behind an interface so that a server-grade backend for
// several collector replicas can replace the embedded SQLite default
// (docs/STORE.md describes the semantics every backend keeps and the SQLite
// schema).
//
// Durability: every method that writes returns OK only after its transaction
// is durably committed (it survives a crash of the process and a power loss);
// the collector acknowledges a record only then.
//
// Thread-safety: every method may be called from any thread concurrently.
// Writes are serialised inside the store; reads run concurrently with each
// other and with a write, each on one consistent snapshot.
//
// Time: `received`/`now` arguments are the collector's clock. Epoch boundaries
// and the assignment of a record to an epoch use the agent's clock (the
// record's created_unix_nanos), so a record that arrives late still lands in
// the epoch it was created in.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fscanary/v1/facts.pb.h"
#include "fscanary/v1/finding.pb.h"
#include "fscanary/v1/ingest.pb.h"
#include "fscanary/v1/query.pb.h"

namespace fscanary::store {

// Silent corruption, as opposed to an error the system reported itself
// (IO_ERROR, KERNEL_REPORTED) or an unspecified kind.
bool IsCorruption(v1::FindingKind kind);

// Kernel config options (CONFIG_X -> y/m/value), shared by every epoch whose
// kernel config has the same SHA-256.
using KernelConfig = absl::flat_hash_map<std::string, std::string>;

// What a host epoch was exposed to: the sum of its interval reports.
struct Exposure {
  uint64_t bytes_verified = 0;
  uint64_t blocks_verified = 0;
  uint64_t bytes_written = 0;
  uint64_t io_errors = 0;
  // Sum of (end - start) of the reports, in nanoseconds.
  int64_t observed_nanos = 0;
  uint64_t reports = 0;
};

// One host over a period in which its correlation-relevant facts did not
// change (docs/STORE.md lists which facts count).
struct EpochRecord {
  std::string agent_id;
  // Per agent, from 1.
  uint64_t epoch = 0;
  // Agent clock. end is 0 for the host's current epoch.
  int64_t start_unix_nanos = 0;
  int64_t end_unix_nanos = 0;
  // The newest facts the host sent during the epoch, kernel_config left empty
  // when it is shared through `kernel_config` (that is, when the agent sent
  // kernel_config_sha256). Default-constructed if the host never sent facts.
  v1::HostFacts facts;
  // Never null; empty when the host sent no config.
  std::shared_ptr<const KernelConfig> kernel_config;
  Exposure exposure;
  std::map<v1::FindingKind, uint64_t> findings_by_kind;
  // The findings_by_kind entries for which IsCorruption holds, summed.
  uint64_t corruption_findings = 0;
  // How many epochs of the host this record stands for: 1, or, for an
  // aggregate retention rolled up, the epochs folded into it (all with these
  // facts and no finding; `exposure` is their sum). The analysis counts it as
  // that many epochs, so its support thresholds see what they saw before.
  uint64_t stands_for = 1;
};

// What to roll up and delete. Ages are measured against `now` in
// ApplyRetention; 0 keeps that kind of record forever. Nothing retention does
// changes what the analysis or the fleet metrics read: exposure, events per
// epoch, findings per host and kind, and spool losses stay summed.
struct RetentionPolicy {
  // Interval reports older than this (by the time they were received). Their
  // exposure stays summed in their epoch.
  int64_t report_max_age_nanos = 0;
  // Closed epochs that ended longer ago than this and hold no finding (nor a
  // retired one) are rolled up: one aggregate epoch per host and set of facts
  // keeps their exposure and spool losses; their reports are deleted. An
  // epoch with a finding is kept as it is: it is the finding's context, and
  // the analysis counts the epochs with events.
  int64_t epoch_max_age_nanos = 0;
  // Findings received longer ago than this; their counts per epoch and kind
  // stay. Findings are the point of fscanary: leave 0 unless the operator
  // asked for it explicitly.
  int64_t finding_max_age_nanos = 0;
};

struct RetentionResult {
  uint64_t reports_deleted = 0;
  // Expired epochs folded into an aggregate epoch of the same host and facts
  // (their rows are gone, their exposure and spool losses are the aggregate's).
  uint64_t epochs_merged = 0;
  // Expired epochs that became the aggregate of their host and facts.
  uint64_t epochs_rolled_up = 0;
  // Deleted findings; their counts stay per epoch and kind.
  uint64_t findings_deleted = 0;
};

// The hosts whose epochs changed since a time, and all their epochs: what a
// reader holding every epoch replaces to be up to date.
struct EpochChanges {
  // Agent ids, ordered; a host listed here with no epoch has none now.
  std::vector<std::string> agents;
  // Every epoch of those hosts, by agent id then epoch number.
  std::vector<EpochRecord> epochs;
};

// Totals for the collector's metrics. Cost: a count over the reports table.
struct StoreStats {
  uint64_t hosts = 0;
  uint64_t hosts_connected = 0;
  uint64_t epochs = 0;
  uint64_t reports = 0;
  std::map<v1::FindingKind, uint64_t> findings_by_kind;
  // Every stored SpoolLoss record, field by field.
  v1::SpoolLoss spool_loss;
  // Main database file plus write-ahead log.
  uint64_t database_bytes = 0;
};

// A host's state as the fleet metrics show it, read at every scrape.
// One checker of a host as its newest interval report said.
struct CheckerHealth {
  std::string checker;
  std::string target;
  // Steps failed in a row when the report was made (0: healthy).
  uint32_t consecutive_failures = 0;
  // Failed steps ever reported (saturating).
  uint64_t failed_steps = 0;
  // The newest failure's message ("" if none was ever reported).
  std::string last_error;
  // Agent clock of the newest report; of the newest that said it was healthy
  // (0: never).
  int64_t reported_unix_nanos = 0;
  int64_t last_healthy_unix_nanos = 0;
};

struct HostActivity {
  std::string agent_id;
  std::string agent_version;
  bool connected = false;
  // Collector clock.
  int64_t first_seen_unix_nanos = 0;
  int64_t last_seen_unix_nanos = 0;
  // End of the newest report that verified bytes (0: none).
  int64_t last_verified_unix_nanos = 0;
  // Findings by kind, every kind.
  std::map<v1::FindingKind, uint64_t> findings_by_kind;
  // When the newest finding of a kind for which IsCorruption holds arrived
  // (collector clock; 0: none). Findings the system reported itself
  // (KERNEL_REPORTED, IO_ERROR) never move it: the page reads it.
  int64_t last_corruption_received_unix_nanos = 0;
  // Its SpoolLoss records, summed field by field.
  v1::SpoolLoss spool_loss;
  // The facts of its newest epoch that holds facts (without kernel config).
  v1::HostFacts facts;
  // Its checkers, by checker and target, as its newest report named them.
  std::vector<CheckerHealth> checkers;
};

// What became of one message of an IngestBatches call.
struct RecordResult {
  enum class Outcome {
    // Stored now (session messages: applied).
    kStored,
    // The same record (equal SHA-256 of its encoding) was already held:
    // nothing stored, safe to acknowledge again.
    kDuplicate,
    // The agent's (agent, sequence) is held with OTHER content: nothing
    // stored, and it must not be acknowledged (that would make the sender
    // drop a record the collector never stored).
    kConflict,
    // The store refused a message of the agent's batch (`error` says why):
    // nothing of that agent's batch is stored; the other agents' batches of
    // the same call are not affected.
    kFailed,
  };
  Outcome outcome = Outcome::kStored;
  // kFailed: why.
  absl::Status error;
  // kConflict: SHA-256 (hex) of the record held and of the one received.
  std::string held_sha256;
  std::string received_sha256;
};

// A stream opening (with its Hello) or closing, for Store::RecordSessions.
struct SessionChange {
  std::string agent_id;
  // Set: the stream opened with this Hello (as RecordHello). Null: it closed
  // (as SetConnected(false)).
  const v1::AgentMessage* hello = nullptr;
};

// The messages of one agent inside a multi-agent commit.
struct AgentBatch {
  std::string agent_id;
  std::span<const v1::AgentMessage> messages;
};

class Store {
 public:
  virtual ~Store() = default;

  // Stores the batches of several agents in ONE transaction (a group commit).
  // Idempotent on (agent_id, sequence): a record already stored is not stored
  // again; the ledger keeps each record's SHA-256, so a different record
  // under a held sequence is a kConflict, not a duplicate (records stored
  // before the ledger kept digests count as duplicates). Returns, per batch
  // and per message, what became of it. Each agent's batch commits or fails
  // on its own: when the store refuses one of its messages, every message of
  // that batch is kFailed with the reason, and nothing of it is stored, while
  // the other batches are stored. When it returns OK everything not kFailed
  // is durably committed; on error (the transaction itself failed) nothing
  // of the call is stored.
  //
  // Per message body (messages must have passed the collector's validation):
  // - report: its exposure is added to the epoch it was created in;
  // - finding: stored with the epoch it was created in;
  // - facts: starts a new epoch when correlation-relevant facts changed (facts
  //   older than the newest applied for the agent are ignored);
  // - spool_loss: stored and counted;
  // - hello, heartbeat (session messages, sequence 0): applied, not stored as
  //   records, reported as stored. Hello updates the host (version, config,
  //   facts as above); heartbeat only last_seen.
  // Sums (exposure, spool losses) saturate at 2^63-1 instead of overflowing.
  // An empty agent id, a record with sequence 0 or above INT64_MAX, or a
  // message without a body fails its agent's batch (kFailed, InvalidArgument).
  virtual absl::StatusOr<std::vector<std::vector<RecordResult>>> IngestBatches(
      std::span<const AgentBatch> batches, int64_t received_unix_nanos) = 0;

  // IngestBatches for one agent; the batch's error when it was kFailed.
  absl::StatusOr<std::vector<RecordResult>> IngestBatch(const std::string& agent_id,
                                                        std::span<const v1::AgentMessage> messages,
                                                        int64_t received_unix_nanos);

  // A stream opened: applies the Hello in `message` and marks the agent
  // connected. Durable when OK.
  virtual absl::Status RecordHello(const std::string& agent_id, const v1::AgentMessage& message,
                                   int64_t now_unix_nanos) = 0;
  // A heartbeat: moves last_seen forward (never back). Creates the host if
  // it is unknown.
  virtual absl::Status Touch(const std::string& agent_id, int64_t now_unix_nanos) = 0;
  // Heartbeats gathered in memory (agent id -> when last heard), in one
  // transaction: a heartbeat costs no commit of its own.
  virtual absl::Status TouchHosts(const std::map<std::string, int64_t>& last_heard) = 0;
  // A stream opened (true) or closed (false), on this collector.
  //
  // Connected is the fleet's view (docs/STORE.md, "Connected"): each store
  // counts its own streams per host in rows of its own, under its instance
  // id, and holds a lease on them that it renews in the background while it
  // lives. A host is connected while any store with a live lease counts a
  // stream of it, so a collector that restarts clears only its own streams,
  // and one killed -9 stops counting once its lease lapses.
  virtual absl::Status SetConnected(const std::string& agent_id, bool connected,
                                    int64_t now_unix_nanos) = 0;
  // Many streams' openings and closings (a connect storm) in ONE transaction,
  // each applied as RecordHello or SetConnected(false) would, each on its
  // own: returns a status per change. On error (the transaction itself
  // failed) nothing of the call is stored. The default calls them one by one.
  virtual absl::StatusOr<std::vector<absl::Status>> RecordSessions(
      std::span<const SessionChange> changes, int64_t now_unix_nanos);

  // Hosts ordered by agent id, page_size of them (0: every one) after the
  // page_token (a previous page's next_page_token; empty: from the first).
  // next_page_token is set when more follow.
  virtual absl::StatusOr<v1::ListHostsResponse> ListHosts(
      const v1::ListHostsRequest& page = {}) = 0;
  // Newest first by the time the collector received them; since_unix_nanos
  // bounds the received time (inclusive). Pages as ListHosts: page_size, or
  // limit when page_size is 0 (both 0: every finding), after page_token;
  // InvalidArgument for a token this store did not issue.
  virtual absl::StatusOr<v1::ListFindingsResponse> ListFindings(
      const v1::ListFindingsRequest& request) = 0;
  // The host, its epochs oldest first (with full facts), and its newest
  // kMaxHostFindings findings. NotFound for an agent never seen.
  virtual absl::StatusOr<v1::GetHostResponse> GetHost(const std::string& agent_id) = 0;
  static constexpr int kMaxHostFindings = 1000;

  // For the correlation engine: every epoch of every host, by agent id then
  // epoch number.
  virtual absl::StatusOr<std::vector<EpochRecord>> ListEpochs() = 0;
  // The hosts whose epochs changed (a record stored, a Hello, retention
  // rolling them up) at or after `since_unix_nanos` of the collector's clock
  // (the time the change was received, which is before its commit: readers
  // ask from a little before their previous read), with every epoch of each.
  // Cost: follows the hosts that changed, not the fleet. The default reads
  // every epoch (a backend without change tracking).
  virtual absl::StatusOr<EpochChanges> ListEpochsChangedSince(int64_t since_unix_nanos);
  virtual absl::StatusOr<StoreStats> GetStats() = 0;
  // Every host, ordered by agent id. Cost: one pass over hosts, findings and
  // spool losses (no reports), for a scrape.
  virtual absl::StatusOr<std::vector<HostActivity>> ListHostActivity() = 0;
  // The highest sequence stored for the agent, 0 if none (or unknown agent).
  virtual absl::StatusOr<uint64_t> MaxSequence(const std::string& agent_id) = 0;

  // Deletes what `policy` says is too old. Works in short transactions so
  // ingest is never held up for long.
  virtual absl::StatusOr<RetentionResult> ApplyRetention(const RetentionPolicy& policy,
                                                         int64_t now_unix_nanos) = 0;

  // Renews this store's lease now, writing its stream rows back if another
  // store forgot them while the lease had lapsed (a process paused too
  // long). The store renews by itself every third of the lease; this is for
  // tests and for a caller that knows it was paused.
  virtual absl::Status RenewLease() { return absl::OkStatus(); }
  // This collector process among those sharing the database
  // (LivenessOptions::instance_id); empty for a store that keeps no leases.
  virtual const std::string& instance_id() const;
};

// The stream rows and lease of one store (Store::SetConnected).
struct LivenessOptions {
  // This collector process among those sharing the database; empty: made up
  // at open (host name, pid and a random number), so each process is new.
  std::string instance_id;
  // A store's streams count for this long after it last renewed its lease;
  // it renews every third of it.
  int64_t lease_nanos = int64_t{30} * 1'000'000'000;
  // The clock leases are written and read with (all collectors' clocks are
  // taken to agree within a fraction of the lease); empty: the wall clock.
  std::function<int64_t()> now_unix_nanos;
};

struct SqliteOptions {
  // The database file; its directory must exist. A missing or empty file is
  // created and migrated to the current schema; anything at the path that is
  // not an fscanary database is an error naming the file (it is never
  // recreated or modified).
  std::string path;
  // How long a statement waits for a lock another process holds.
  int busy_timeout_ms = 5000;
  // Reader connections kept open for concurrent queries.
  int max_readers = 8;
  // SQLite's synchronous on the writer. kFull (the default) fsyncs the WAL at
  // every commit, so an acknowledged record survives a power loss; kNormal
  // only a crash of the process.
  enum class Synchronous { kNormal, kFull, kExtra };
  Synchronous synchronous = Synchronous::kFull;
  // The one store of the database clears every stream row at open.
  LivenessOptions liveness;
};

// Opens (creating if missing) the SQLite store at options.path. Takes an
// exclusive lock on "<path>.lock" for the life of the store: FailedPrecondition
// if another store holds the database. FailedPrecondition, naming the file,
// for a database of a newer schema than this binary knows (never downgraded)
// or of another application; DataLoss, naming the file, for a file that is
// not an SQLite database or is damaged.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

struct PostgresOptions {
  // A libpq connection string ("host=/run/postgresql dbname=fscanary") or URI
  // ("postgresql://fscanary@db.example/fscanary?sslmode=verify-full"). It
  // must hold no password: InvalidArgument if it does.
  std::string dsn;
  // A file whose first line is the password, readable by its owner only;
  // empty: libpq's own PGPASSWORD or PGPASSFILE (~/.pgpass), if any.
  std::string password_file;
  // Reader connections kept open for concurrent queries.
  int max_readers = 8;
  // At open the store clears its own stream rows, and the rows of stores
  // whose lease lapsed over a lease ago.
  LivenessOptions liveness;
};

// Opens the PostgreSQL store the DSN names, migrating its schema (the
// connection's current schema) in one transaction. FailedPrecondition,
// naming the database and both versions, for a schema newer than this binary
// knows; for a schema holding other tables. Several stores (collectors) may
// share one database: a record (agent, sequence) is stored once whichever
// receives it, and each acknowledges it (kDuplicate on the later).
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(const PostgresOptions& options);

// Which store the collector runs on, as configured (store.backend).
struct StoreOptions {
  enum class Backend { kSqlite, kPostgres };
  Backend backend = Backend::kSqlite;
  SqliteOptions sqlite;
  PostgresOptions postgres;
};
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const StoreOptions& options);

}  // namespace fscanary::store
