// Host epochs in the SQLite store: facts that start one, and the epoch each
// record was created in (docs/STORE.md, "Host epochs").

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "collector/store/epoch_facts.h"
#include "collector/store/sql_store.h"
#include "common/status.h"

namespace fscanary::store {

using sql::Statement;

absl::Status SqlStore::ApplyFacts(HostState& host, const v1::HostFacts& facts, int64_t created_ns) {
  // A record resent late never rolls the host back to older facts.
  if (created_ns < host.facts_as_of_ns) return absl::OkStatus();
  host.facts_as_of_ns = created_ns;
  {
    ASSIGN_OR_RETURN(Statement update,
                     writer_->Prepare("UPDATE hosts SET facts_as_of_ns = ?2, hostname = ?3, "
                                      "kernel_release = ?4 WHERE host_id = ?1"));
    RETURN_IF_ERROR(update.Bind(1, host.host_id)
                        .Bind(2, created_ns)
                        .BindText(3, facts.hostname())
                        .BindText(4, facts.kernel_release())
                        .Send());
  }

  std::string fingerprint = EpochFingerprint(facts);
  v1::HostFacts compact = facts;
  // The epoch's key into kernel_configs: the collector's own hash of the
  // options, whatever hash the agent reported (that stays in the facts).
  std::string sha256;
  if (std::optional<SharedKernelConfig> config = SplitKernelConfig(compact)) {
    ASSIGN_OR_RETURN(Statement insert, writer_->Prepare("INSERT INTO kernel_configs "
                                                        "(sha256, options) VALUES (?1, ?2) "
                                                        "ON CONFLICT DO NOTHING"));
    RETURN_IF_ERROR(insert.BindText(1, config->sha256).BindBlob(2, config->options).Send());
    sha256 = std::move(config->sha256);
  }
  const std::string blob = SerializeDeterministic(compact);

  if (!host.current) {
    RETURN_IF_ERROR(InsertEpoch(host, created_ns, &blob, sha256).status());
  } else if (!host.current_has_facts) {
    // The epoch opened for records that came before any facts: these are its facts.
    ASSIGN_OR_RETURN(Statement update,
                     writer_->Prepare("UPDATE epochs SET facts = ?2, kernel_config_sha256 = ?3, "
                                      "start_ns = least(start_ns, ?4) WHERE epoch_id = ?1"));
    RETURN_IF_ERROR(update.Bind(1, host.current->id)
                        .BindBlob(2, blob)
                        .BindText(3, sha256)
                        .Bind(4, created_ns)
                        .Send());
    host.current->start_ns = std::min(host.current->start_ns, created_ns);
    host.current_has_facts = true;
  } else {
    ASSIGN_OR_RETURN(const std::string current, CurrentFingerprint(host));
    if (current == fingerprint) {
      // Same epoch; keep its newest facts (hostname, memory, boot id move).
      ASSIGN_OR_RETURN(Statement update,
                       writer_->Prepare("UPDATE epochs SET facts = ?2 "
                                        "WHERE epoch_id = ?1 AND facts IS DISTINCT FROM ?2"));
      RETURN_IF_ERROR(update.Bind(1, host.current->id).BindBlob(2, blob).Send());
    } else {
      const EpochRef previous = *host.current;
      ASSIGN_OR_RETURN(const EpochRef next, InsertEpoch(host, created_ns, &blob, sha256));
      ASSIGN_OR_RETURN(Statement close,
                       writer_->Prepare("UPDATE epochs SET end_ns = ?2 WHERE epoch_id = ?1"));
      RETURN_IF_ERROR(close.Bind(1, previous.id).Bind(2, created_ns).Send());
      // Records sent ahead of these facts (findings go first) but created
      // after them belong to the new epoch.
      RETURN_IF_ERROR(MoveRecordsToEpoch(previous.id, next.id, created_ns));
    }
  }
  host.fingerprint = std::move(fingerprint);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SqlStore::CurrentFingerprint(HostState& host) {
  if (host.fingerprint) return *host.fingerprint;
  ASSIGN_OR_RETURN(Statement query,
                   writer_->Prepare("SELECT facts FROM epochs WHERE epoch_id = ?1"));
  ASSIGN_OR_RETURN(const bool found, query.Bind(1, host.current->id).Step());
  v1::HostFacts facts;
  if (!found ||
      !facts.ParseFromArray(query.Blob(0).data(), static_cast<int>(query.Blob(0).size()))) {
    return absl::DataLossError(
        absl::StrCat(writer_->name(), ": the facts of epoch ", host.current->id, " do not parse"));
  }
  host.fingerprint = EpochFingerprint(facts);
  return *host.fingerprint;
}

absl::Status SqlStore::MoveRecordsToEpoch(int64_t from_epoch, int64_t to_epoch, int64_t from_ns) {
  // Reports carry their exposure, so the epochs' sums move with them exactly
  // (short of saturation: a saturated sum loses what it could not hold, and
  // never goes below 0 when the moved part leaves).
  std::array<int64_t, 6> moved{};  // reports, then the columns of the epoch sums
  {
    ASSIGN_OR_RETURN(Statement sums,
                     writer_->Prepare("SELECT count(*), sat_sum(bytes_verified), "
                                      "sat_sum(blocks_verified), sat_sum(bytes_written), "
                                      "sat_sum(io_errors), sat_sum(observed_ns) FROM reports "
                                      "WHERE epoch_id = ?1 AND created_ns >= ?2"));
    ASSIGN_OR_RETURN(const bool row, sums.Bind(1, from_epoch).Bind(2, from_ns).Step());
    if (!row) return absl::InternalError("an aggregate returned no row");
    for (size_t column = 0; column < moved.size(); ++column) {
      moved[column] = sums.Int(static_cast<int>(column));
    }
  }
  if (moved[0] > 0) {
    for (const auto& [epoch, sign] : {std::pair{from_epoch, -1}, std::pair{to_epoch, 1}}) {
      ASSIGN_OR_RETURN(Statement adjust,
                       writer_->Prepare("UPDATE epochs SET reports = sat_add(reports, ?2 * ?3), "
                                        "bytes_verified = sat_add(bytes_verified, ?2 * ?4), "
                                        "blocks_verified = sat_add(blocks_verified, ?2 * ?5), "
                                        "bytes_written = sat_add(bytes_written, ?2 * ?6), "
                                        "io_errors = sat_add(io_errors, ?2 * ?7), "
                                        "observed_ns = sat_add(observed_ns, ?2 * ?8) "
                                        "WHERE epoch_id = ?1"));
      adjust.Bind(1, epoch).Bind(2, sign);
      for (size_t column = 0; column < moved.size(); ++column) {
        adjust.Bind(3 + static_cast<int>(column), moved[column]);
      }
      RETURN_IF_ERROR(adjust.Send());
    }
  }
  for (const char* sql : {
           "UPDATE reports SET epoch_id = ?2 WHERE epoch_id = ?1 AND created_ns >= ?3",
           "UPDATE findings SET epoch_id = ?2 WHERE epoch_id = ?1 AND created_ns >= ?3",
           "UPDATE spool_losses SET epoch_id = ?2 WHERE epoch_id = ?1 AND created_ns >= ?3",
       }) {
    ASSIGN_OR_RETURN(Statement move, writer_->Prepare(sql));
    RETURN_IF_ERROR(move.Bind(1, from_epoch).Bind(2, to_epoch).Bind(3, from_ns).Send());
  }
  return absl::OkStatus();
}

absl::StatusOr<SqlStore::EpochRef> SqlStore::InsertEpoch(HostState& host, int64_t start_ns,
                                                         const std::string* facts,
                                                         const std::string& kernel_config_sha256) {
  const int64_t number = host.current ? host.current->number + 1 : 1;
  ASSIGN_OR_RETURN(Statement insert,
                   writer_->Prepare("INSERT INTO epochs (host_id, number, start_ns, facts, "
                                    "kernel_config_sha256) VALUES (?1, ?2, ?3, ?4, ?5) "
                                    "RETURNING epoch_id"));
  insert.Bind(1, host.host_id).Bind(2, number).Bind(3, start_ns).BindText(5, kernel_config_sha256);
  if (facts != nullptr) {
    insert.BindBlob(4, *facts);
  } else {
    insert.BindNull(4);
  }
  ASSIGN_OR_RETURN(const bool inserted, insert.Step());
  if (!inserted) return absl::InternalError("INSERT ... RETURNING returned no row");
  host.current = EpochRef{.id = insert.Int(0), .number = number, .start_ns = start_ns};
  host.current_has_facts = facts != nullptr;
  host.fingerprint.reset();
  return *host.current;
}

absl::StatusOr<SqlStore::EpochRef> SqlStore::EpochAt(HostState& host, int64_t created_ns) {
  if (!host.current) return InsertEpoch(host, created_ns, nullptr, "");
  if (created_ns >= host.current->start_ns) return *host.current;
  // An older record: the epoch it was created in, or the host's first epoch
  // for a record older than every epoch (created before the first facts).
  // An aggregate's range spans the epochs it folded and the epochs kept
  // between them: an epoch whose own range holds the time comes first, then
  // an aggregate whose range does, then the latest that started before.
  ASSIGN_OR_RETURN(
      Statement query,
      writer_->Prepare("SELECT epoch_id, number, start_ns FROM epochs "
                       "WHERE host_id = ?1 AND start_ns <= ?2 "
                       "ORDER BY CASE WHEN end_ns = 0 OR ?2 < end_ns THEN 0 ELSE 1 END, "
                       "CASE WHEN rolled_up = 0 THEN 0 ELSE 1 END, "
                       "start_ns DESC, number DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool found, query.Bind(1, host.host_id).Bind(2, created_ns).Step());
  if (found) return EpochRef{.id = query.Int(0), .number = query.Int(1), .start_ns = query.Int(2)};
  ASSIGN_OR_RETURN(Statement first,
                   writer_->Prepare("SELECT epoch_id, number, start_ns FROM epochs "
                                    "WHERE host_id = ?1 ORDER BY start_ns, number LIMIT 1"));
  ASSIGN_OR_RETURN(found, first.Bind(1, host.host_id).Step());
  if (!found) return absl::InternalError("a host with a current epoch has no epoch");
  return EpochRef{.id = first.Int(0), .number = first.Int(1), .start_ns = first.Int(2)};
}

}  // namespace fscanary::store
