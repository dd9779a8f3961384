#pragma once
// The SQLite schema as numbered migrations (docs/STORE.md describes every
// table), and the checks that keep the store from touching a file that is not
// its own or is newer than this binary.

#include <cstdint>

#include "absl/status/status.h"
#include "collector/store/sqlite_connection.h"

namespace fscanary::store::sqlite {

// PRAGMA application_id of every fscanary collector database: "fsca".
inline constexpr int64_t kApplicationId = 0x66736361;

// The schema version (PRAGMA user_version) this binary writes.
int64_t LatestSchemaVersion();

// Refuses anything at the connection's path but an empty file or an fscanary
// database of a schema version up to LatestSchemaVersion(): DataLoss for a
// file that is not an SQLite database or is damaged, FailedPrecondition for
// another application's database or a newer schema. Reads only.
absl::Status CheckDatabaseIdentity(Connection& connection);

// Applies the migrations the database lacks, each in its own transaction
// together with its new user_version, so a crash leaves a whole step or none.
absl::Status Migrate(Connection& connection);

}  // namespace fscanary::store::sqlite
