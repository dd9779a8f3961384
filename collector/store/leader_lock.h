#pragma once
// Which one of the collectors sharing a store is the fleet's leader: the one
// that exports the fleet-level series and runs retention (docs/SCALING.md,
// "Several collectors").
//
// On PostgreSQL the leader holds a session advisory lock
// (pg_try_advisory_lock, keyed by the schema's name) on a connection of its
// own: the server releases it when that session ends, so when the leader
// dies (or loses its connection) another collector takes it at its next
// Poll. On SQLite the one collector is always the leader.
//
// Not thread-safe: one thread polls.

#include <memory>

#include "absl/status/statusor.h"
#include "collector/store/store.h"

namespace fscanary::store {

class LeaderLock {
 public:
  virtual ~LeaderLock() = default;
  // Takes the lock if it is free, or checks that this process still holds
  // it. True while this process is the leader. An error (the database
  // cannot be reached) means not the leader; the next Poll tries again.
  virtual absl::StatusOr<bool> Poll() = 0;
};

// The leader lock of the store `options` configure. Opens no connection
// yet: the first Poll does.
std::unique_ptr<LeaderLock> MakeLeaderLock(const StoreOptions& options);

}  // namespace fscanary::store
