// Retention for the SQLite store: old reports deleted, old finding-free epochs
// rolled up into one aggregate epoch per host and facts, and, only when
// configured, old findings deleted with their counts kept, in short
// transactions so that ingest waits at most one chunk for the writer. What the
// analysis and the fleet metrics read (exposure, events, findings per host and
// kind, spool losses) is the same before and after.

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "collector/store/epoch_facts.h"
#include "collector/store/sql_store.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

using sql::Statement;

// Closed ordinary epochs that ended before ?1 and hold no finding, stored or
// retired (an epoch with events stays itself: the analysis counts them).
constexpr const char* kExpiredEpochs =
    "SELECT e.epoch_id FROM epochs e WHERE e.end_ns != 0 AND e.end_ns < ?1 "
    "AND e.rolled_up = 0 "
    "AND NOT EXISTS (SELECT 1 FROM findings f WHERE f.epoch_id = e.epoch_id) "
    "AND NOT EXISTS (SELECT 1 FROM retired_findings r WHERE r.epoch_id = e.epoch_id)";

// The ledger entry of a record whose row goes (?1 host, ?2 sequence), if the
// record was received before ?3: the agent resends only unacknowledged
// records, never one this old. A record received since (a spool backlog, its
// row gone with an expired epoch) keeps its entry, so that its resend is a
// duplicate, not stored again.
constexpr const char* kForgetLedgerEntry =
    "DELETE FROM records WHERE host_id = ?1 AND sequence = ?2 AND received_ns < ?3";

// A finding about to be deleted, counted in retired_findings (?1: its id).
constexpr const char* kRetireFinding =
    "INSERT INTO retired_findings (epoch_id, host_id, kind, findings, last_received_ns) "
    "SELECT epoch_id, host_id, kind, 1, received_ns FROM findings WHERE finding_id = ?1 "
    "ON CONFLICT (epoch_id, kind) DO UPDATE SET findings = sat_add(retired_findings.findings, 1), "
    "last_received_ns = greatest(retired_findings.last_received_ns, excluded.last_received_ns)";

// Which epochs of one host an aggregate may stand for together: the same
// facts for a correlation (EpochFingerprint) and the same kernel config.
// Facts that no longer parse go only with the same bytes.
std::string RollUpKey(const Statement& row, int facts_column, int config_column) {
  std::string key;
  if (row.IsNull(facts_column)) {
    key = "none";
  } else {
    v1::HostFacts facts;
    const std::string_view blob = row.Blob(facts_column);
    if (facts.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
      key = absl::StrCat("facts:", EpochFingerprint(facts));
    } else {
      key = absl::StrCat("bytes:", std::string(blob));
    }
  }
  absl::StrAppend(&key, "|config:", row.Text(config_column));
  return key;
}

}  // namespace

absl::StatusOr<RetentionResult> SqlStore::ApplyRetention(const RetentionPolicy& policy,
                                                         int64_t now_unix_nanos) {
  if (policy.report_max_age_nanos < 0 || policy.epoch_max_age_nanos < 0 ||
      policy.finding_max_age_nanos < 0) {
    return absl::InvalidArgumentError("retention ages must not be negative");
  }
  RetentionResult result;
  // Findings first, counted where they were: an epoch whose findings are all
  // retired keeps its events and therefore stays an epoch of its own.
  if (policy.finding_max_age_nanos > 0) {
    ASSIGN_OR_RETURN(result.findings_deleted,
                     DeleteInChunks("findings", "finding_id", "received_ns < ?1",
                                    now_unix_nanos - policy.finding_max_age_nanos, kRetireFinding));
  }
  if (policy.report_max_age_nanos > 0) {
    ASSIGN_OR_RETURN(result.reports_deleted,
                     DeleteInChunks("reports", "report_id", "received_ns < ?1",
                                    now_unix_nanos - policy.report_max_age_nanos));
  }
  if (policy.epoch_max_age_nanos > 0) {
    const int64_t cutoff = now_unix_nanos - policy.epoch_max_age_nanos;
    const std::string of_expired_epochs = absl::StrCat("epoch_id IN (", kExpiredEpochs, ")");
    // Their exposure is summed on the epoch already.
    ASSIGN_OR_RETURN(const uint64_t reports,
                     DeleteInChunks("reports", "report_id", of_expired_epochs, cutoff));
    result.reports_deleted += reports;
    RETURN_IF_ERROR(RollUpEpochs(cutoff, now_unix_nanos, result));
    RETURN_IF_ERROR(CollapseSpoolLosses(cutoff));
    RETURN_IF_ERROR(RetentionTransaction([&]() -> absl::Status {
      return writer_->Exec(
          "DELETE FROM kernel_configs WHERE sha256 NOT IN "
          "(SELECT kernel_config_sha256 FROM epochs)");
    }));
  }
  return result;
}

absl::Status SqlStore::RollUpEpochs(int64_t cutoff_ns, int64_t now_ns, RetentionResult& result) {
  // (host_id, key) -> the aggregate epoch; hosts whose aggregates are loaded.
  absl::flat_hash_map<std::pair<int64_t, std::string>, int64_t> aggregate_of;
  absl::flat_hash_set<int64_t> loaded_hosts;
  struct Expired {
    int64_t epoch_id, host_id, start_ns, end_ns, bytes_verified, blocks_verified, bytes_written,
        io_errors, observed_ns, reports;
    std::string key;
  };
  std::vector<Expired> expired;
  while (true) {
    expired.clear();
    const absl::Status chunk = RetentionTransaction([&]() -> absl::Status {
      {
        ASSIGN_OR_RETURN(
            Statement query,
            writer_->Prepare(absl::StrCat(
                "SELECT epoch_id, host_id, start_ns, end_ns, bytes_verified, blocks_verified, "
                "bytes_written, io_errors, observed_ns, reports, facts, kernel_config_sha256 "
                "FROM epochs WHERE epoch_id IN (",
                kExpiredEpochs, ") ORDER BY host_id, number LIMIT ?2")));
        query.Bind(1, cutoff_ns).Bind(2, kRetentionChunk);
        while (true) {
          ASSIGN_OR_RETURN(const bool row, query.Step());
          if (!row) break;
          expired.push_back({query.Int(0), query.Int(1), query.Int(2), query.Int(3), query.Int(4),
                             query.Int(5), query.Int(6), query.Int(7), query.Int(8), query.Int(9),
                             RollUpKey(query, 10, 11)});
        }
      }
      for (const Expired& epoch : expired) {
        if (loaded_hosts.insert(epoch.host_id).second) {
          ASSIGN_OR_RETURN(Statement aggregates,
                           writer_->Prepare("SELECT epoch_id, facts, kernel_config_sha256 "
                                            "FROM epochs WHERE host_id = ?1 AND rolled_up > 0"));
          aggregates.Bind(1, epoch.host_id);
          while (true) {
            ASSIGN_OR_RETURN(const bool row, aggregates.Step());
            if (!row) break;
            aggregate_of.try_emplace({epoch.host_id, RollUpKey(aggregates, 1, 2)},
                                     aggregates.Int(0));
          }
        }
        const auto [it, first] =
            aggregate_of.try_emplace({epoch.host_id, epoch.key}, epoch.epoch_id);
        if (first) {
          ASSIGN_OR_RETURN(Statement mark,
                           writer_->Prepare("UPDATE epochs SET rolled_up = 1 WHERE epoch_id = ?1"));
          RETURN_IF_ERROR(mark.Bind(1, epoch.epoch_id).Run());
          ++result.epochs_rolled_up;
          continue;
        }
        ASSIGN_OR_RETURN(Statement fold,
                         writer_->Prepare("UPDATE epochs SET start_ns = least(start_ns, ?2), "
                                          "end_ns = greatest(end_ns, ?3), "
                                          "bytes_verified = sat_add(bytes_verified, ?4), "
                                          "blocks_verified = sat_add(blocks_verified, ?5), "
                                          "bytes_written = sat_add(bytes_written, ?6), "
                                          "io_errors = sat_add(io_errors, ?7), "
                                          "observed_ns = sat_add(observed_ns, ?8), "
                                          "reports = sat_add(reports, ?9), "
                                          "rolled_up = sat_add(rolled_up, 1) WHERE epoch_id = ?1"));
        RETURN_IF_ERROR(fold.Bind(1, it->second)
                            .Bind(2, epoch.start_ns)
                            .Bind(3, epoch.end_ns)
                            .Bind(4, epoch.bytes_verified)
                            .Bind(5, epoch.blocks_verified)
                            .Bind(6, epoch.bytes_written)
                            .Bind(7, epoch.io_errors)
                            .Bind(8, epoch.observed_ns)
                            .Bind(9, epoch.reports)
                            .Run());
        // A report that arrived since the reports were deleted: its exposure
        // is in the sums just folded, so it goes with its epoch's exposure.
        ASSIGN_OR_RETURN(Statement reports,
                         writer_->Prepare("UPDATE reports SET epoch_id = ?2 WHERE epoch_id = ?1"));
        RETURN_IF_ERROR(reports.Bind(1, epoch.epoch_id).Bind(2, it->second).Run());
        ASSIGN_OR_RETURN(
            Statement losses,
            writer_->Prepare("UPDATE spool_losses SET epoch_id = ?2 WHERE epoch_id = ?1"));
        RETURN_IF_ERROR(losses.Bind(1, epoch.epoch_id).Bind(2, it->second).Run());
        ASSIGN_OR_RETURN(Statement remove,
                         writer_->Prepare("DELETE FROM epochs WHERE epoch_id = ?1"));
        RETURN_IF_ERROR(remove.Bind(1, epoch.epoch_id).Run());
        ++result.epochs_merged;
      }
      // The fleet metrics re-read these hosts' epochs (store.h,
      // ListEpochsChangedSince).
      int64_t marked_host = 0;
      for (const Expired& epoch : expired) {
        if (epoch.host_id == marked_host) continue;
        marked_host = epoch.host_id;
        ASSIGN_OR_RETURN(Statement mark, writer_->Prepare("UPDATE hosts SET epochs_changed_ns = "
                                                          "greatest(epochs_changed_ns, ?2) "
                                                          "WHERE host_id = ?1"));
        RETURN_IF_ERROR(mark.Bind(1, epoch.host_id).Bind(2, now_ns).Run());
      }
      return absl::OkStatus();
    });
    if (!chunk.ok()) return chunk;
    if (static_cast<int64_t>(expired.size()) < kRetentionChunk) return absl::OkStatus();
  }
}

absl::Status SqlStore::CollapseSpoolLosses(int64_t cutoff_ns) {
  std::vector<int64_t> aggregates;
  return RetentionTransaction([&]() -> absl::Status {
    {
      ASSIGN_OR_RETURN(Statement query,
                       writer_->Prepare("SELECT s.epoch_id FROM spool_losses s "
                                        "JOIN epochs e ON e.epoch_id = s.epoch_id "
                                        "WHERE e.rolled_up > 0 GROUP BY s.epoch_id "
                                        "HAVING count(*) > 1"));
      while (true) {
        ASSIGN_OR_RETURN(const bool row, query.Step());
        if (!row) break;
        aggregates.push_back(query.Int(0));
      }
    }
    for (const int64_t epoch_id : aggregates) {
      // The ledger entries go with the rows, as when retention deletes any
      // record received before the cutoff (kForgetLedgerEntry); the sum keeps
      // sequence 0, which no record has.
      ASSIGN_OR_RETURN(Statement ledger,
                       writer_->Prepare("DELETE FROM records WHERE received_ns < ?2 AND "
                                        "(host_id, sequence) IN "
                                        "(SELECT host_id, sequence FROM spool_losses "
                                        "WHERE epoch_id = ?1 AND sequence != 0)"));
      RETURN_IF_ERROR(ledger.Bind(1, epoch_id).Bind(2, cutoff_ns).Run());
      ASSIGN_OR_RETURN(
          Statement sum,
          writer_->Prepare(
              "INSERT INTO spool_losses (host_id, sequence, epoch_id, created_ns, "
              "received_ns, reports_summarised, reports_dropped, findings_dropped, "
              "damaged_records_skipped) "
              "SELECT max(host_id), 0, epoch_id, max(created_ns), max(received_ns), "
              "sat_sum(reports_summarised), sat_sum(reports_dropped), "
              "sat_sum(findings_dropped), sat_sum(damaged_records_skipped) "
              "FROM spool_losses WHERE epoch_id = ?1 GROUP BY epoch_id RETURNING loss_id"));
      ASSIGN_OR_RETURN(const bool inserted, sum.Bind(1, epoch_id).Step());
      if (!inserted) return absl::InternalError("INSERT ... RETURNING returned no row");
      const int64_t kept = sum.Int(0);
      ASSIGN_OR_RETURN(
          Statement remove,
          writer_->Prepare("DELETE FROM spool_losses WHERE epoch_id = ?1 AND loss_id != ?2"));
      RETURN_IF_ERROR(remove.Bind(1, epoch_id).Bind(2, kept).Run());
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<uint64_t> SqlStore::DeleteInChunks(const std::string& table,
                                                  const std::string& id_column,
                                                  const std::string& where, int64_t cutoff_ns,
                                                  const std::string& before_delete) {
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
    const absl::Status chunk = RetentionTransaction([&]() -> absl::Status {
      {
        ASSIGN_OR_RETURN(Statement query, writer_->Prepare(select));
        query.Bind(1, cutoff_ns).Bind(2, kRetentionChunk);
        while (true) {
          ASSIGN_OR_RETURN(const bool row, query.Step());
          if (!row) break;
          rows.push_back({query.Int(0), query.Int(1), query.Int(2)});
        }
      }
      for (const Row& row : rows) {
        if (!before_delete.empty()) {
          ASSIGN_OR_RETURN(Statement before, writer_->Prepare(before_delete));
          RETURN_IF_ERROR(before.Bind(1, row.id).Run());
        }
        ASSIGN_OR_RETURN(Statement ledger, writer_->Prepare(kForgetLedgerEntry));
        RETURN_IF_ERROR(ledger.Bind(1, row.host_id).Bind(2, row.sequence).Bind(3, cutoff_ns).Run());
        ASSIGN_OR_RETURN(Statement record, writer_->Prepare(delete_row));
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
