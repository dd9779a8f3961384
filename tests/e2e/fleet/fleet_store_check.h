#pragma once
// Reads back what the collector stored, after it stopped, on SQLite or on
// PostgreSQL, and checks it against what a simulated fleet appended: every
// (agent, sequence) stored exactly once, in the ledger and the data tables.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tests/e2e/fleet/fleet_sim.h"

namespace fscanary::testing {
class PostgresServer;
}  // namespace fscanary::testing

namespace fscanary::e2e {

// The collector's database, read only. Not thread-safe.
class StoredRows {
 public:
  virtual ~StoredRows() = default;
  // Every row of `sql`, each value as text ("" for NULL).
  virtual absl::StatusOr<std::vector<std::vector<std::string>>> Rows(const std::string& sql) = 0;
  // Engine checks of the file or database itself; empty if there are none.
  virtual absl::Status CheckIntegrity() = 0;
};

// The SQLite file at `path` (opened read-only).
absl::StatusOr<std::unique_ptr<StoredRows>> OpenSqliteRows(const std::string& path);
// The PostgreSQL database `dsn` on `server` (which must outlive it).
std::unique_ptr<StoredRows> PostgresRows(fscanary::testing::PostgresServer& server,
                                         std::string dsn);

struct StoredOnceOptions {
  // Expect no host marked connected (the collector was stopped cleanly).
  bool hosts_disconnected = true;
};

// GTest expectations: `db` holds one host per agent of `result` and nothing
// else; per agent, the reports, findings and ledger hold exactly the appended
// sequences, once each; the epochs count each report once; no spool losses;
// (optionally) no host is marked connected.
void ExpectEveryRecordStoredOnce(StoredRows& db, const FleetResult& result,
                                 const StoredOnceOptions& options = {});

}  // namespace fscanary::e2e
