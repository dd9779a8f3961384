#include "collector/store/sqlite_schema.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status.h"

namespace fscanary::store::sqlite {
namespace {

// Migration N (1-based) takes the schema from version N-1 to N. Released
// steps are never edited: a change is a new step. Times are ns since the Unix
// epoch; *_id columns are SQLite rowids.
constexpr std::array<const char*, 7> kMigrations = {
    // 1: hosts, host epochs, the record ledger, reports, findings, spool losses.
    R"sql(
CREATE TABLE hosts (
  host_id INTEGER PRIMARY KEY,
  agent_id TEXT NOT NULL UNIQUE,
  agent_version TEXT NOT NULL DEFAULT '',
  hostname TEXT NOT NULL DEFAULT '',
  kernel_release TEXT NOT NULL DEFAULT '',
  config_sha256 TEXT NOT NULL DEFAULT '',
  config BLOB,
  first_seen_ns INTEGER NOT NULL,
  last_seen_ns INTEGER NOT NULL,
  connected INTEGER NOT NULL DEFAULT 0,
  max_sequence INTEGER NOT NULL DEFAULT 0,
  facts_as_of_ns INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE kernel_configs (
  sha256 TEXT PRIMARY KEY,
  options BLOB NOT NULL
) STRICT;

CREATE TABLE epochs (
  epoch_id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  number INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  end_ns INTEGER NOT NULL DEFAULT 0,
  facts BLOB,
  kernel_config_sha256 TEXT NOT NULL DEFAULT '',
  bytes_verified INTEGER NOT NULL DEFAULT 0,
  blocks_verified INTEGER NOT NULL DEFAULT 0,
  bytes_written INTEGER NOT NULL DEFAULT 0,
  io_errors INTEGER NOT NULL DEFAULT 0,
  observed_ns INTEGER NOT NULL DEFAULT 0,
  reports INTEGER NOT NULL DEFAULT 0,
  UNIQUE (host_id, number)
) STRICT;
CREATE INDEX epochs_by_start ON epochs (host_id, start_ns);

CREATE TABLE records (
  host_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  PRIMARY KEY (host_id, sequence)
) STRICT, WITHOUT ROWID;

CREATE TABLE reports (
  report_id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  epoch_id INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  bytes_verified INTEGER NOT NULL,
  blocks_verified INTEGER NOT NULL,
  bytes_written INTEGER NOT NULL,
  io_errors INTEGER NOT NULL,
  observed_ns INTEGER NOT NULL,
  body BLOB NOT NULL
) STRICT;
CREATE INDEX reports_by_received ON reports (received_ns);
CREATE INDEX reports_by_epoch ON reports (epoch_id, created_ns);

CREATE TABLE findings (
  finding_id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  epoch_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  body BLOB NOT NULL
) STRICT;
CREATE INDEX findings_by_received ON findings (received_ns);
CREATE INDEX findings_by_host ON findings (host_id, received_ns);
CREATE INDEX findings_by_epoch ON findings (epoch_id, created_ns);

CREATE TABLE spool_losses (
  loss_id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  epoch_id INTEGER NOT NULL,
  created_ns INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  reports_summarised INTEGER NOT NULL,
  reports_dropped INTEGER NOT NULL,
  findings_dropped INTEGER NOT NULL,
  damaged_records_skipped INTEGER NOT NULL
) STRICT;
CREATE INDEX spool_losses_by_epoch ON spool_losses (epoch_id, created_ns);
)sql",
    // 2: when a host last verified bytes, for the fleet metrics to read at
    // every scrape without scanning reports.
    R"sql(
ALTER TABLE hosts ADD COLUMN last_verified_ns INTEGER NOT NULL DEFAULT 0;
)sql",
    // 3: the SHA-256 (hex) of each record's deterministic encoding, so that a
    // different record under a sequence already held is told from a resend.
    // NULL for records stored before.
    R"sql(
ALTER TABLE records ADD COLUMN digest TEXT;
)sql",
    // 4: retention rolls up instead of forgetting. rolled_up: how many
    // expired epochs of one host and one set of facts an aggregate epoch
    // stands for (0: an ordinary epoch). retired_findings: the counts of
    // findings deleted by a configured finding age, per epoch and kind, so
    // that events and counters stay what they were.
    R"sql(
ALTER TABLE epochs ADD COLUMN rolled_up INTEGER NOT NULL DEFAULT 0;
CREATE TABLE retired_findings (
  epoch_id INTEGER NOT NULL,
  host_id INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  findings INTEGER NOT NULL,
  last_received_ns INTEGER NOT NULL,
  PRIMARY KEY (epoch_id, kind)
) STRICT, WITHOUT ROWID;
CREATE INDEX retired_findings_by_host ON retired_findings (host_id, kind);
)sql",
    // 5: each checker's health as the host's newest report said it, and its
    // failed steps summed, so that a checker that keeps failing (and so
    // verifies nothing) shows, and is told from a clean one.
    R"sql(
CREATE TABLE checker_health (
  host_id INTEGER NOT NULL,
  checker TEXT NOT NULL,
  target TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL,
  failed_steps INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  reported_ns INTEGER NOT NULL,
  last_healthy_ns INTEGER NOT NULL,
  PRIMARY KEY (host_id, checker, target)
) STRICT, WITHOUT ROWID;
)sql",
    // 6: when any epoch of the host last changed (collector clock), so that
    // the fleet metrics read only the hosts whose epochs changed since their
    // last refresh instead of every epoch.
    R"sql(
ALTER TABLE hosts ADD COLUMN epochs_changed_ns INTEGER NOT NULL DEFAULT 0;
CREATE INDEX hosts_by_epochs_changed ON hosts (epochs_changed_ns);
)sql",
    // 7: connected as the fleet's view: each collector's streams per host,
    // counted while its lease lasts (hosts.connected is no longer read).
    R"sql(
CREATE TABLE collectors (
  instance_id TEXT PRIMARY KEY,
  lease_until_ns INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE streams (
  instance_id TEXT NOT NULL,
  host_id INTEGER NOT NULL,
  streams INTEGER NOT NULL,
  PRIMARY KEY (instance_id, host_id)
) STRICT, WITHOUT ROWID;
UPDATE hosts SET connected = 0 WHERE connected != 0;
)sql",
};

}  // namespace

int64_t LatestSchemaVersion() { return static_cast<int64_t>(kMigrations.size()); }

absl::Status CheckDatabaseIdentity(Connection& connection) {
  const std::string& path = connection.path();
  // The first read of the file: a file that is not a database fails here.
  absl::StatusOr<int64_t> version = connection.QueryInt("PRAGMA user_version");
  if (!version.ok()) {
    if (version.status().code() == absl::StatusCode::kDataLoss) {
      return absl::DataLossError(absl::StrCat(
          "database ", path, " is not an SQLite database or is damaged (",
          std::string(version.status().message()),
          "); it was left untouched: move it aside to start an empty database, or restore a "
          "backup"));
    }
    return version.status();
  }
  ASSIGN_OR_RETURN(const int64_t application, connection.QueryInt("PRAGMA application_id"));
  ASSIGN_OR_RETURN(const int64_t objects,
                   connection.QueryInt("SELECT count(*) FROM sqlite_schema"));
  if (application != kApplicationId && (application != 0 || *version != 0 || objects != 0)) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "database %s is an SQLite database of another application (application_id 0x%08x, "
        "user_version %d, %d schema objects), not an fscanary collector's; it was left untouched",
        path, application, *version, objects));
  }
  if (*version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "database %s has schema version %d, newer than the versions this fscanary-collector "
        "knows (up to %d); run the newer collector that wrote it (a database is never "
        "downgraded)",
        path, *version, LatestSchemaVersion()));
  }
  return absl::OkStatus();
}

absl::Status Migrate(Connection& connection) {
  ASSIGN_OR_RETURN(const int64_t version, connection.QueryInt("PRAGMA user_version"));
  for (int64_t step = version + 1; step <= LatestSchemaVersion(); ++step) {
    ASSIGN_OR_RETURN(sql::Transaction transaction,
                     sql::Transaction::Begin(connection, "BEGIN IMMEDIATE"));
    RETURN_IF_ERROR(connection.Exec(kMigrations[static_cast<size_t>(step - 1)]));
    RETURN_IF_ERROR(connection.Exec(absl::StrCat("PRAGMA application_id = ", kApplicationId,
                                                 "; PRAGMA user_version = ", step)));
    if (absl::Status committed = transaction.Commit(); !committed.ok()) {
      return absl::Status(committed.code(), absl::StrCat("migrating to schema version ", step, ": ",
                                                         std::string(committed.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace fscanary::store::sqlite
