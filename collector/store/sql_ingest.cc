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

absl::Status SqlStore::CheckRecord(const v1::AgentMessage& message) {
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
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::vector<RecordResult>>> SqlStore::IngestBatches(
    std::span<const AgentBatch> batches, int64_t received_unix_nanos) {
  std::vector<std::vector<RecordResult>> stored(batches.size());
  const auto fail = [&](size_t b, const absl::Status& error) {
    stored[b].assign(batches[b].messages.size(),
                     RecordResult{.outcome = RecordResult::Outcome::kFailed, .error = error});
  };
  // What the store refuses without asking the database fails its agent's
  // batch before the transaction begins.
  std::vector<size_t> valid;
  valid.reserve(batches.size());
  for (size_t b = 0; b < batches.size(); ++b) {
    absl::Status checked = batches[b].agent_id.empty()
                               ? absl::InvalidArgumentError("empty agent id")
                               : absl::OkStatus();
    for (const v1::AgentMessage& message : batches[b].messages) {
      if (!checked.ok()) break;
      checked = CheckRecord(message);
    }
    if (checked.ok()) {
      valid.push_back(b);
    } else {
      fail(b, checked);
    }
  }
  const absl::Status written = WriteEach(
      valid, [&] { return LockHosts(batches); },
      [&](size_t b) -> absl::Status {
        ASSIGN_OR_RETURN(stored[b], IngestAgentBatch(batches[b], received_unix_nanos));
        return absl::OkStatus();
      },
      [&](size_t b, const absl::Status& error) {
        // The cached state may describe rows just rolled back.
        hosts_.erase(batches[b].agent_id);
        fail(b, error);
      });
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
    RETURN_IF_ERROR(lock.BindText(1, agent_id).Send());
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
                      .Send());
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
  if (inserted) host.checkers_reported_ns = 0;  // a new host has no checker state
  return &hosts_.emplace(agent_id, std::move(host)).first->second;
}

absl::StatusOr<bool> SqlStore::ReadHostRow(const std::string& agent_id, HostState& host) {
  // One round trip: the host, its newest epoch, and its newest checker state.
  ASSIGN_OR_RETURN(
      Statement query,
      writer_->Prepare(absl::StrCat(
          "SELECT hosts.host_id, hosts.max_sequence, hosts.facts_as_of_ns, e.epoch_id, e.number, "
          "e.start_ns, e.facts IS NOT NULL, (SELECT coalesce(max(reported_ns), 0) FROM "
          "checker_health c WHERE c.host_id = hosts.host_id) FROM hosts LEFT JOIN epochs e ON "
          "e.epoch_id = (SELECT epoch_id FROM epochs n WHERE n.host_id = hosts.host_id "
          "ORDER BY n.number DESC LIMIT 1) WHERE hosts.agent_id = ?1",
          dialect_.lock_host_row)));
  ASSIGN_OR_RETURN(const bool found, query.BindText(1, agent_id).Step());
  if (found) {
    host.host_id = query.Int(0);
    host.max_sequence = query.Int(1);
    host.facts_as_of_ns = query.Int(2);
    if (!query.IsNull(3)) {
      host.current = EpochRef{.id = query.Int(3), .number = query.Int(4), .start_ns = query.Int(5)};
      host.current_has_facts = query.Int(6) != 0;
    }
    host.checkers_reported_ns = query.Int(7);
  }
  return found;
}

absl::StatusOr<RecordResult> SqlStore::IngestOne(HostState& host, const v1::AgentMessage& message,
                                                 int64_t received_ns) {
  const uint64_t sequence = message.sequence();
  RETURN_IF_ERROR(CheckRecord(message));
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
                      .Send());
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
                      .Send());
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
                      .Send());
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
  return verified.Bind(1, host.host_id).Bind(2, verified_ns).Send();
}

absl::Status SqlStore::StoreCheckerHealth(HostState& host, const v1::IntervalReport& report,
                                          int64_t created_ns) {
  // Failed steps add up whatever the order reports arrive in; the state
  // (failing or not, the message) is the newest report's. A checker the
  // newest report no longer names (its target was removed) is dropped.
  if (!host.checkers_reported_ns) {
    ASSIGN_OR_RETURN(Statement newest,
                     writer_->Prepare("SELECT coalesce(max(reported_ns), 0) FROM checker_health "
                                      "WHERE host_id = ?1"));
    ASSIGN_OR_RETURN(const bool row, newest.Bind(1, host.host_id).Step());
    host.checkers_reported_ns = row ? newest.Int(0) : 0;
  }
  const bool is_newest = created_ns >= *host.checkers_reported_ns;
  // The newest report's checkers are the rows left, all stamped with it.
  if (is_newest) host.checkers_reported_ns = report.checkers_size() > 0 ? created_ns : 0;
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
                          .Send());
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
                        .Send());
  }
  if (!is_newest) return absl::OkStatus();
  ASSIGN_OR_RETURN(Statement gone,
                   writer_->Prepare("DELETE FROM checker_health WHERE host_id = ?1 AND "
                                    "reported_ns < ?2"));
  return gone.Bind(1, host.host_id).Bind(2, created_ns).Send();
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
      .Send();
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
      .Send();
}

}  // namespace fscanary::store
