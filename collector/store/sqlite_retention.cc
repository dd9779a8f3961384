// Retention for the SQLite store: old reports, old finding-free epochs and,
// only when configured, old findings, deleted in short transactions so that
// ingest waits at most one chunk for the writer.

#include <vector>

#include "absl/strings/str_cat.h"
#include "collector/store/sqlite_store.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

// Closed epochs that ended before ?1 and hold no finding.
constexpr const char* kExpiredEpochs =
    "SELECT e.epoch_id FROM epochs e WHERE e.end_ns != 0 AND e.end_ns < ?1 "
    "AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.epoch_id = e.epoch_id)";

}  // namespace

absl::StatusOr<RetentionResult> SqliteStore::ApplyRetention(const RetentionPolicy& policy,
                                                            int64_t now_unix_nanos) {
  if (policy.report_max_age_nanos < 0 || policy.epoch_max_age_nanos < 0 ||
      policy.finding_max_age_nanos < 0) {
    return absl::InvalidArgumentError("retention ages must not be negative");
  }
  RetentionResult result;
  // Findings first: an epoch goes only once no finding refers to it.
  if (policy.finding_max_age_nanos > 0) {
    ASSIGN_OR_RETURN(result.findings_deleted,
                     DeleteInChunks("findings", "finding_id", "received_ns < ?1",
                                    now_unix_nanos - policy.finding_max_age_nanos));
  }
  if (policy.report_max_age_nanos > 0) {
    ASSIGN_OR_RETURN(result.reports_deleted,
                     DeleteInChunks("reports", "report_id", "received_ns < ?1",
                                    now_unix_nanos - policy.report_max_age_nanos));
  }
  if (policy.epoch_max_age_nanos > 0) {
    const int64_t cutoff = now_unix_nanos - policy.epoch_max_age_nanos;
    const std::string of_expired_epochs = absl::StrCat("epoch_id IN (", kExpiredEpochs, ")");
    ASSIGN_OR_RETURN(const uint64_t reports,
                     DeleteInChunks("reports", "report_id", of_expired_epochs, cutoff));
    result.reports_deleted += reports;
    RETURN_IF_ERROR(DeleteInChunks("spool_losses", "loss_id", of_expired_epochs, cutoff).status());
    const absl::Status deleted = WriteTransaction([&]() -> absl::Status {
      // A finding that arrived meanwhile keeps its epoch (NOT EXISTS again).
      ASSIGN_OR_RETURN(
          sqlite::Statement epochs,
          writer_->Prepare(absl::StrCat("DELETE FROM epochs WHERE ", of_expired_epochs)));
      RETURN_IF_ERROR(epochs.Bind(1, cutoff).Run());
      result.epochs_deleted = static_cast<uint64_t>(writer_->Changes());
      return writer_->Exec(
          "DELETE FROM kernel_configs WHERE sha256 NOT IN "
          "(SELECT kernel_config_sha256 FROM epochs)");
    });
    if (!deleted.ok()) return deleted;
  }
  return result;
}

absl::StatusOr<uint64_t> SqliteStore::DeleteInChunks(const std::string& table,
                                                     const std::string& id_column,
                                                     const std::string& where, int64_t cutoff_ns) {
  const std::string select = absl::StrCat("SELECT ", id_column, ", host_id, sequence FROM ", table,
                                          " WHERE ", where, " LIMIT ?2");
  const std::string delete_row = absl::StrCat("DELETE FROM ", table, " WHERE ", id_column, " = ?1");
  struct Row {
    int64_t id, host_id, sequence;
  };
  std::vector<Row> rows;
  uint64_t deleted = 0;
  while (true) {
    rows.clear();
    const absl::Status chunk = WriteTransaction([&]() -> absl::Status {
      {
        ASSIGN_OR_RETURN(sqlite::Statement query, writer_->Prepare(select));
        query.Bind(1, cutoff_ns).Bind(2, kRetentionChunk);
        while (true) {
          ASSIGN_OR_RETURN(const bool row, query.Step());
          if (!row) break;
          rows.push_back({query.Int(0), query.Int(1), query.Int(2)});
        }
      }
      for (const Row& row : rows) {
        // The ledger entry goes too: the agent resends only unacknowledged
        // records, never one this old.
        ASSIGN_OR_RETURN(sqlite::Statement ledger,
                         writer_->Prepare("DELETE FROM records WHERE host_id = ?1 "
                                          "AND sequence = ?2"));
        RETURN_IF_ERROR(ledger.Bind(1, row.host_id).Bind(2, row.sequence).Run());
        ASSIGN_OR_RETURN(sqlite::Statement record, writer_->Prepare(delete_row));
        RETURN_IF_ERROR(record.Bind(1, row.id).Run());
      }
      return absl::OkStatus();
    });
    if (!chunk.ok()) return chunk;
    deleted += rows.size();
    if (static_cast<int64_t>(rows.size()) < kRetentionChunk) return deleted;
  }
}

}  // namespace fscanary::store
