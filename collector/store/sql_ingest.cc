// The write path of the SQLite store: the record ledger that makes ingest
// idempotent, and where each kind of record goes (epochs: sql_epochs.cc).

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "collector/store/epoch_facts.h"
#include "collector/store/sql_store.h"
#include "common/digest/sha256.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

using sql::Statement;

// A single report claiming more than this (9 PB, 104 days) is clamped, so
// that sums can never overflow SQLite's 64-bit integers.
constexpr uint64_t kMaxReportCounter = uint64_t{1} << 53;

int64_t Clamped(uint64_t value) { return static_cast<int64_t>(std::min(value, kMaxReportCounter)); }

uint64_t SaturatingAdd(uint64_t sum, uint64_t value) {
  value = std::min(value, kMaxReportCounter);
  return sum > kMaxReportCounter - value ? kMaxReportCounter : sum + value;
}

bool IsSessionMessage(const v1::AgentMessage& message) {
  return message.has_hello() || message.has_heartbeat();
}

}  // namespace

absl::StatusOr<std::vector<std::vector<RecordResult>>> SqlStore::IngestBatches(
    std::span<const AgentBatch> batches, int64_t received_unix_nanos) {
  std::vector<std::vector<RecordResult>> stored(batches.size());
  const absl::Status written = WriteTransaction(
      [&]() -> absl::Status {
        RETURN_IF_ERROR(LockHosts(batches));
        for (size_t b = 0; b < batches.size(); ++b) {
          // Each agent's records in a savepoint of their own: what the store
          // refuses of one agent fails that agent's records, never another's.
          RETURN_IF_ERROR(writer_->Exec("SAVEPOINT agent_batch"));
          absl::StatusOr<std::vector<RecordResult>> results =
              IngestAgentBatch(batches[b], received_unix_nanos);
          if (results.ok()) {
            RETURN_IF_ERROR(writer_->Exec("RELEASE agent_batch"));
            stored[b] = *std::move(results);
            continue;
          }
          // The database gave up this transaction, not this agent's records:
          // all of it runs again.
          if (results.status().code() == absl::StatusCode::kAborted) return results.status();
          RETURN_IF_ERROR(writer_->Exec("ROLLBACK TO agent_batch; RELEASE agent_batch"));
          // The cached state may describe rows just rolled back.
          hosts_.erase(batches[b].agent_id);
          stored[b].assign(batches[b].messages.size(),
                           RecordResult{.outcome = RecordResult::Outcome::kFailed,
                                        .error = std::move(results).status()});
        }
        return absl::OkStatus();
      },
      kWriteAttempts);
  if (!written.ok()) return written;
  return stored;
}

absl::Status SqlStore::LockHosts(std::span<const AgentBatch> batches) {
  if (dialect_.lock_host_row.empty()) return absl::OkStatus();
  std::vector<std::string_view> agent_ids;
  agent_ids.reserve(batches.size());
  for (const AgentBatch& batch : batches) agent_ids.push_back(batch.agent_id);
  std::sort(agent_ids.begin(), agent_ids.end());
  agent_ids.erase(std::unique(agent_ids.begin(), agent_ids.end()), agent_ids.end());
  for (const std::string_view agent_id : agent_ids) {
    ASSIGN_OR_RETURN(Statement lock,
                     writer_->Prepare(absl::StrCat("SELECT 1 FROM hosts WHERE agent_id = ?1",
                                                   dialect_.lock_host_row)));
    RETURN_IF_ERROR(lock.BindText(1, agent_id).Run());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<RecordResult>> SqlStore::IngestAgentBatch(const AgentBatch& batch,
                                                                     int64_t received_ns) {
  ASSIGN_OR_RETURN(HostState * host, LoadHost(batch.agent_id, received_ns));
  std::vector<RecordResult> results;
  results.reserve(batch.messages.size());
  for (const v1::AgentMessage& message : batch.messages) {
    ASSIGN_OR_RETURN(RecordResult result, IngestOne(*host, message, received_ns));
    results.push_back(std::move(result));
  }
  // Anything but heartbeats may change the host's epochs (a report's
  // exposure, a finding, facts); the fleet metrics re-read those hosts.
  const bool epochs_changed =
      std::any_of(batch.messages.begin(), batch.messages.end(),
                  [](const v1::AgentMessage& message) { return !message.has_heartbeat(); });
  ASSIGN_OR_RETURN(Statement update,
                   writer_->Prepare("UPDATE hosts SET last_seen_ns = greatest(last_seen_ns, ?2), "
                                    "max_sequence = ?3, epochs_changed_ns = CASE WHEN ?4 <> 0 "
                                    "THEN greatest(epochs_changed_ns, ?2) "
                                    "ELSE epochs_changed_ns END WHERE host_id = ?1"));
  RETURN_IF_ERROR(update.Bind(1, host->host_id)
                      .Bind(2, received_ns)
                      .Bind(3, host->max_sequence)
                      .Bind(4, epochs_changed ? 1 : 0)
                      .Run());
  return results;
}

absl::StatusOr<SqlStore::HostState*> SqlStore::LoadHost(const std::string& agent_id,
                                                        int64_t received_ns) {
  if (auto it = hosts_.find(agent_id); it != hosts_.end()) return &it->second;
  if (agent_id.empty()) return absl::InvalidArgumentError("empty agent id");
  HostState host;
  // Locked (where stores share the database) until the transaction ends: the
  // state read here stays right while this transaction writes.
  ASSIGN_OR_RETURN(bool found, ReadHostRow(agent_id, host));
  bool inserted = false;
  if (!found) {
    ASSIGN_OR_RETURN(Statement insert,
                     writer_->Prepare("INSERT INTO hosts (agent_id, first_seen_ns, last_seen_ns) "
                                      "VALUES (?1, ?2, ?2) ON CONFLICT (agent_id) DO NOTHING "
                                      "RETURNING host_id"));
    ASSIGN_OR_RETURN(inserted, insert.BindText(1, agent_id).Bind(2, received_ns).Step());
    if (inserted) host.host_id = insert.Int(0);
  }
  if (!found && !inserted) {
    // Another store sharing the database inserted it since: its row it is.
    ASSIGN_OR_RETURN(found, ReadHostRow(agent_id, host));
    if (!found) return absl::InternalError(absl::StrCat("host ", agent_id, " vanished"));
  }
  if (found) {
    ASSIGN_OR_RETURN(Statement query, writer_->Prepare("SELECT epoch_id, number, start_ns, "
                                                       "facts IS NOT NULL FROM epochs "
                                                       "WHERE host_id = ?1 "
                                                       "ORDER BY number DESC LIMIT 1"));
    ASSIGN_OR_RETURN(const bool has_epoch, query.Bind(1, host.host_id).Step());
    if (has_epoch) {
      host.current = EpochRef{.id = query.Int(0), .number = query.Int(1), .start_ns = query.Int(2)};
      host.current_has_facts = query.Int(3) != 0;
    }
  }
  return &hosts_.emplace(agent_id, std::move(host)).first->second;
}

absl::StatusOr<bool> SqlStore::ReadHostRow(const std::string& agent_id, HostState& host) {
  ASSIGN_OR_RETURN(Statement query,
                   writer_->Prepare(absl::StrCat("SELECT host_id, max_sequence, facts_as_of_ns "
                                                 "FROM hosts WHERE agent_id = ?1",
                                                 dialect_.lock_host_row)));
  ASSIGN_OR_RETURN(const bool found, query.BindText(1, agent_id).Step());
  if (found) {
    host.host_id = query.Int(0);
    host.max_sequence = query.Int(1);
    host.facts_as_of_ns = query.Int(2);
  }
  return found;
}

absl::StatusOr<RecordResult> SqlStore::IngestOne(HostState& host, const v1::AgentMessage& message,
                                                 int64_t received_ns) {
  const uint64_t sequence = message.sequence();
  if (message.body_case() == v1::AgentMessage::BODY_NOT_SET) {
    return absl::InvalidArgumentError(absl::StrCat("record ", sequence, " has no body"));
  }
  if (sequence == 0 && !IsSessionMessage(message)) {
    return absl::InvalidArgumentError("a record other than hello or heartbeat has sequence 0");
  }
  if (sequence > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat("sequence ", sequence, " is out of range"));
  }
  if (sequence != 0) {
    // The ledger: a (host, sequence) already present was stored before, the
    // same record if its digest is the same.
    const std::string digest = digest::Sha256Hex(SerializeDeterministic(message));
    ASSIGN_OR_RETURN(Statement insert,
                     writer_->Prepare("INSERT INTO records "
                                      "(host_id, sequence, kind, received_ns, digest) "
                                      "VALUES (?1, ?2, ?3, ?4, ?5) "
                                      "ON CONFLICT DO NOTHING RETURNING sequence"));
    ASSIGN_OR_RETURN(const bool inserted, insert.Bind(1, host.host_id)
                                              .Bind(2, static_cast<int64_t>(sequence))
                                              .Bind(3, static_cast<int64_t>(message.body_case()))
                                              .Bind(4, received_ns)
                                              .BindText(5, digest)
                                              .Step());
    if (!inserted) {
      ASSIGN_OR_RETURN(Statement held, writer_->Prepare("SELECT digest FROM records "
                                                        "WHERE host_id = ?1 AND sequence = ?2"));
      ASSIGN_OR_RETURN(const bool found,
                       held.Bind(1, host.host_id).Bind(2, static_cast<int64_t>(sequence)).Step());
      // NULL: stored before the ledger kept digests; it cannot be told apart.
      if (!found || held.IsNull(0) || held.Text(0) == digest) {
        return RecordResult{.outcome = RecordResult::Outcome::kDuplicate};
      }
      return RecordResult{.outcome = RecordResult::Outcome::kConflict,
                          .held_sha256 = held.Text(0),
                          .received_sha256 = digest};
    }
    host.max_sequence = std::max(host.max_sequence, static_cast<int64_t>(sequence));
  }
  // The agent's clock; a record without one is placed by when it arrived.
  const int64_t created_ns =
      message.created_unix_nanos() != 0 ? message.created_unix_nanos() : received_ns;
  switch (message.body_case()) {
    case v1::AgentMessage::kHello:
      RETURN_IF_ERROR(ApplyHello(host, message.hello(), created_ns));
      break;
    case v1::AgentMessage::kFacts:
      RETURN_IF_ERROR(ApplyFacts(host, message.facts(), created_ns));
      break;
    case v1::AgentMessage::kReport:
      RETURN_IF_ERROR(StoreReport(host, message, created_ns, received_ns));
      break;
    case v1::AgentMessage::kFinding:
      RETURN_IF_ERROR(StoreFinding(host, message, created_ns, received_ns));
      break;
    case v1::AgentMessage::kSpoolLoss:
      RETURN_IF_ERROR(StoreSpoolLoss(host, message, created_ns, received_ns));
      break;
    case v1::AgentMessage::kHeartbeat:  // last_seen moves with every batch
    case v1::AgentMessage::BODY_NOT_SET:
      break;
  }
  return RecordResult{};
}

absl::Status SqlStore::ApplyHello(HostState& host, const v1::Hello& hello, int64_t created_ns) {
  ASSIGN_OR_RETURN(Statement update,
                   writer_->Prepare("UPDATE hosts SET agent_version = ?2, config_sha256 = ?3, "
                                    "config = ?4 WHERE host_id = ?1"));
  RETURN_IF_ERROR(update.Bind(1, host.host_id)
                      .BindText(2, hello.agent_version())
                      .BindText(3, hello.config().config_sha256())
                      .BindBlob(4, SerializeDeterministic(hello.config()))
                      .Run());
  if (hello.has_facts()) RETURN_IF_ERROR(ApplyFacts(host, hello.facts(), created_ns));
  return absl::OkStatus();
}

absl::Status SqlStore::StoreReport(HostState& host, const v1::AgentMessage& message,
                                   int64_t created_ns, int64_t received_ns) {
  const v1::IntervalReport& report = message.report();
  Exposure exposure;
  // Each addend is at most 2^53 and there are at most 256 checkers (the
  // service's limit), but the store does not count on it: the sum saturates.
  for (const v1::CheckerInterval& checker : report.checkers()) {
    exposure.bytes_verified = SaturatingAdd(exposure.bytes_verified, checker.bytes_verified());
    exposure.blocks_verified = SaturatingAdd(exposure.blocks_verified, checker.blocks_verified());
    exposure.bytes_written = SaturatingAdd(exposure.bytes_written, checker.bytes_written());
    exposure.io_errors = SaturatingAdd(exposure.io_errors, checker.io_errors());
  }
  const int64_t observed_ns = report.end_unix_nanos() > report.start_unix_nanos()
                                  ? Clamped(static_cast<uint64_t>(report.end_unix_nanos()) -
                                            static_cast<uint64_t>(report.start_unix_nanos()))
                                  : 0;
  ASSIGN_OR_RETURN(const EpochRef epoch, EpochAt(host, created_ns));
  ASSIGN_OR_RETURN(Statement insert,
                   writer_->Prepare("INSERT INTO reports (host_id, sequence, epoch_id, "
                                    "created_ns, received_ns, bytes_verified, blocks_verified, "
                                    "bytes_written, io_errors, observed_ns, body) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  RETURN_IF_ERROR(insert.Bind(1, host.host_id)
                      .Bind(2, static_cast<int64_t>(message.sequence()))
                      .Bind(3, epoch.id)
                      .Bind(4, created_ns)
                      .Bind(5, received_ns)
                      .Bind(6, Clamped(exposure.bytes_verified))
                      .Bind(7, Clamped(exposure.blocks_verified))
                      .Bind(8, Clamped(exposure.bytes_written))
                      .Bind(9, Clamped(exposure.io_errors))
                      .Bind(10, observed_ns)
                      .BindBlob(11, report.SerializeAsString())
                      .Run());
  ASSIGN_OR_RETURN(Statement add,
                   writer_->Prepare("UPDATE epochs SET reports = sat_add(reports, 1), "
                                    "bytes_verified = sat_add(bytes_verified, ?2), "
                                    "blocks_verified = sat_add(blocks_verified, ?3), "
                                    "bytes_written = sat_add(bytes_written, ?4), "
                                    "io_errors = sat_add(io_errors, ?5), "
                                    "observed_ns = sat_add(observed_ns, ?6) WHERE epoch_id = ?1"));
  RETURN_IF_ERROR(add.Bind(1, epoch.id)
                      .Bind(2, Clamped(exposure.bytes_verified))
                      .Bind(3, Clamped(exposure.blocks_verified))
                      .Bind(4, Clamped(exposure.bytes_written))
                      .Bind(5, Clamped(exposure.io_errors))
                      .Bind(6, observed_ns)
                      .Run());
  RETURN_IF_ERROR(StoreCheckerHealth(host, report, created_ns));
  if (exposure.bytes_verified == 0) return absl::OkStatus();
  // The collector's clock bounds the agent's: a clock running ahead must not
  // hide a stalled verification.
  const int64_t verified_ns =
      report.end_unix_nanos() > 0 ? std::min(report.end_unix_nanos(), received_ns) : received_ns;
  ASSIGN_OR_RETURN(
      Statement verified,
      writer_->Prepare("UPDATE hosts SET last_verified_ns = greatest(last_verified_ns, ?2) "
                       "WHERE host_id = ?1"));
  return verified.Bind(1, host.host_id).Bind(2, verified_ns).Run();
}

absl::Status SqlStore::StoreCheckerHealth(HostState& host, const v1::IntervalReport& report,
                                          int64_t created_ns) {
  // Failed steps add up whatever the order reports arrive in; the state
  // (failing or not, the message) is the newest report's. A checker the
  // newest report no longer names (its target was removed) is dropped.
  ASSIGN_OR_RETURN(Statement newest,
                   writer_->Prepare("SELECT coalesce(max(reported_ns), 0) FROM checker_health "
                                    "WHERE host_id = ?1"));
  ASSIGN_OR_RETURN(const bool row, newest.Bind(1, host.host_id).Step());
  const bool is_newest = !row || created_ns >= newest.Int(0);
  for (const v1::CheckerInterval& interval : report.checkers()) {
    if (!is_newest) {
      ASSIGN_OR_RETURN(Statement add,
                       writer_->Prepare("UPDATE checker_health SET failed_steps = "
                                        "sat_add(failed_steps, ?4) WHERE host_id = ?1 AND "
                                        "checker = ?2 AND target = ?3"));
      RETURN_IF_ERROR(add.Bind(1, host.host_id)
                          .BindText(2, interval.checker())
                          .BindText(3, interval.target())
                          .Bind(4, Clamped(interval.failed_steps()))
                          .Run());
      continue;
    }
    const bool healthy = interval.consecutive_failures() == 0;
    ASSIGN_OR_RETURN(
        Statement upsert,
        writer_->Prepare(
            "INSERT INTO checker_health (host_id, checker, target, consecutive_failures, "
            "failed_steps, last_error, reported_ns, last_healthy_ns) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
            "ON CONFLICT (host_id, checker, target) DO UPDATE SET "
            "consecutive_failures = excluded.consecutive_failures, "
            "failed_steps = sat_add(checker_health.failed_steps, excluded.failed_steps), "
            "last_error = CASE WHEN excluded.last_error = '' THEN checker_health.last_error "
            "ELSE excluded.last_error END, "
            "reported_ns = excluded.reported_ns, "
            "last_healthy_ns = greatest(checker_health.last_healthy_ns, "
            "excluded.last_healthy_ns)"));
    RETURN_IF_ERROR(upsert.Bind(1, host.host_id)
                        .BindText(2, interval.checker())
                        .BindText(3, interval.target())
                        .Bind(4, static_cast<int64_t>(interval.consecutive_failures()))
                        .Bind(5, Clamped(interval.failed_steps()))
                        .BindText(6, interval.last_error())
                        .Bind(7, created_ns)
                        .Bind(8, healthy ? created_ns : 0)
                        .Run());
  }
  if (!is_newest) return absl::OkStatus();
  ASSIGN_OR_RETURN(Statement gone,
                   writer_->Prepare("DELETE FROM checker_health WHERE host_id = ?1 AND "
                                    "reported_ns < ?2"));
  return gone.Bind(1, host.host_id).Bind(2, created_ns).Run();
}

absl::Status SqlStore::StoreFinding(HostState& host, const v1::AgentMessage& message,
                                    int64_t created_ns, int64_t received_ns) {
  ASSIGN_OR_RETURN(const EpochRef epoch, EpochAt(host, created_ns));
  ASSIGN_OR_RETURN(Statement insert,
                   writer_->Prepare("INSERT INTO findings (host_id, sequence, epoch_id, kind, "
                                    "created_ns, received_ns, body) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  return insert.Bind(1, host.host_id)
      .Bind(2, static_cast<int64_t>(message.sequence()))
      .Bind(3, epoch.id)
      .Bind(4, static_cast<int64_t>(message.finding().kind()))
      .Bind(5, created_ns)
      .Bind(6, received_ns)
      .BindBlob(7, message.finding().SerializeAsString())
      .Run();
}

absl::Status SqlStore::StoreSpoolLoss(HostState& host, const v1::AgentMessage& message,
                                      int64_t created_ns, int64_t received_ns) {
  const v1::SpoolLoss& loss = message.spool_loss();
  ASSIGN_OR_RETURN(const EpochRef epoch, EpochAt(host, created_ns));
  ASSIGN_OR_RETURN(Statement insert,
                   writer_->Prepare("INSERT INTO spool_losses (host_id, sequence, epoch_id, "
                                    "created_ns, received_ns, reports_summarised, "
                                    "reports_dropped, findings_dropped, damaged_records_skipped) "
                                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  return insert.Bind(1, host.host_id)
      .Bind(2, static_cast<int64_t>(message.sequence()))
      .Bind(3, epoch.id)
      .Bind(4, created_ns)
      .Bind(5, received_ns)
      .Bind(6, Clamped(loss.reports_summarised()))
      .Bind(7, Clamped(loss.reports_dropped()))
      .Bind(8, Clamped(loss.findings_dropped()))
      .Bind(9, Clamped(loss.damaged_records_skipped()))
      .Run();
}

}  // namespace fscanary::store
