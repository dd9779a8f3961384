#include "collector/daemon/fleet_epochs.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "common/status.h"
#include "io/posix.h"

namespace fscanary::collector {

int64_t FleetEpochs::Now() const {
  return options_.now_unix_nanos ? options_.now_unix_nanos()
                                 : static_cast<int64_t>(io::WallClockNanos());
}

absl::StatusOr<FleetEpochsRead> FleetEpochs::Refresh(store::Store& store) {
  const int64_t began = Now();
  if (!read_began_ || began - full_read_began_ >= options_.full_read_every_nanos) {
    ASSIGN_OR_RETURN(std::vector<store::EpochRecord> epochs, store.ListEpochs());
    epochs_ = std::move(epochs);
    read_began_ = began;
    full_read_began_ = began;
    return FleetEpochsRead{.full = true, .epochs = epochs_.size()};
  }
  ASSIGN_OR_RETURN(store::EpochChanges changes,
                   store.ListEpochsChangedSince(*read_began_ - options_.overlap_nanos));
  const FleetEpochsRead read = {.hosts = changes.agents.size(), .epochs = changes.epochs.size()};
  Apply(std::move(changes));
  read_began_ = began;
  return read;
}

void FleetEpochs::Apply(store::EpochChanges changes) {
  if (changes.agents.empty()) return;
  // One merge of two runs ordered by agent id: the unchanged hosts' epochs
  // move across, the changed hosts' are replaced by what was read.
  std::vector<store::EpochRecord> merged;
  merged.reserve(epochs_.size() + changes.epochs.size());
  auto kept = epochs_.begin();
  auto read = changes.epochs.begin();
  for (const std::string& agent : changes.agents) {
    while (kept != epochs_.end() && kept->agent_id < agent) merged.push_back(std::move(*kept++));
    while (kept != epochs_.end() && kept->agent_id == agent) ++kept;
    // Epochs read of hosts ordered before `agent` (each is in `agents`).
    while (read != changes.epochs.end() && read->agent_id <= agent) {
      merged.push_back(std::move(*read++));
    }
  }
  std::move(kept, epochs_.end(), std::back_inserter(merged));
  std::move(read, changes.epochs.end(), std::back_inserter(merged));
  epochs_ = std::move(merged);
}

}  // namespace fscanary::collector
