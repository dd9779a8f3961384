#pragma once
// Every host epoch the store holds, kept in memory and brought up to date
// from what changed since the previous refresh (Store::ListEpochsChangedSince):
// a refresh reads the hosts whose epochs changed, so its cost follows the
// rate of new records, not the size of the fleet or of its history.

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/store/store.h"

namespace fscanary::collector {

struct FleetEpochsOptions {
  // Each refresh asks for the changes from this long before the previous one
  // began: a change is stamped when it was received, before its commit, and
  // collectors sharing a database have clocks apart by a little.
  int64_t overlap_nanos = int64_t{10} * 1'000'000'000;
  // Every epoch is read again this often anyway: a change missed (a commit
  // later than the overlap, a clock further off) lasts at most this long, or
  // until its host changes again.
  int64_t full_read_every_nanos = int64_t{3600} * 1'000'000'000;
  std::function<int64_t()> now_unix_nanos;  // default: the wall clock
};

// What one refresh read.
struct FleetEpochsRead {
  bool full = false;
  size_t hosts = 0;   // hosts whose epochs were read (full: 0)
  size_t epochs = 0;  // epochs read
};

// Not thread-safe: one refresher owns it.
class FleetEpochs {
 public:
  explicit FleetEpochs(FleetEpochsOptions options = {}) : options_(std::move(options)) {}

  // Brings the copy up to date: the first time, every epoch; then the hosts
  // changed since. On error the copy is as before (and the next refresh asks
  // from as far back).
  absl::StatusOr<FleetEpochsRead> Refresh(store::Store& store);
  // Every epoch, by agent id then number: what Store::ListEpochs returned
  // when the changes read last were committed.
  const std::vector<store::EpochRecord>& epochs() const { return epochs_; }
  // The next Refresh reads every epoch: the copy missed something (a change
  // committed later than the overlap allows for).
  void ReadAllNext() { read_began_.reset(); }

 private:
  int64_t Now() const;
  // Replaces the epochs of `changes.agents` with `changes.epochs`.
  void Apply(store::EpochChanges changes);

  const FleetEpochsOptions options_;
  std::vector<store::EpochRecord> epochs_;
  // When the read that the copy is up to date with began; the last full read.
  std::optional<int64_t> read_began_;
  int64_t full_read_began_ = 0;
};

}  // namespace fscanary::collector
