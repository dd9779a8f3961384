#pragma once
// The PostgreSQL schema as numbered migrations (docs/STORE.md: it mirrors the
// SQLite schema), recorded in a table schema_version of the connection's
// current schema.

#include <cstdint>

#include "absl/status/status.h"
#include "collector/store/postgres_connection.h"

namespace fscanary::store::postgres {

// The schema version this binary writes.
int64_t LatestSchemaVersion();

// In ONE transaction, under an advisory lock so that collectors starting
// together migrate once: checks the schema is empty or ours and not newer
// than this binary (FailedPrecondition naming the database and both versions,
// before anything is written), then applies the migrations it lacks.
absl::Status Migrate(Connection& connection);

}  // namespace fscanary::store::postgres
