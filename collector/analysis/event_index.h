#pragma once
// The epochs that had corruptions ("event slots"), so that event counts of any
// set of epochs come from a short bitset over slots rather than from a pass
// over the whole fleet. Internal to the analysis; not thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

class EventIndex {
 public:
  // Counts corruptions of `kind` only, or of every kind when it is nullopt.
  EventIndex(const Fleet& fleet, std::optional<KindId> kind);

  size_t words() const { return (epochs_.size() + 63) / 64; }
  // Epochs with events (ascending) and their event counts.
  std::span<const uint32_t> slot_epochs() const { return epochs_; }
  std::span<const uint64_t> slot_counts() const { return counts_; }
  uint64_t total() const { return total_; }

  // Slot bits of the epochs in `set`.
  std::vector<uint64_t> SlotsOf(BitsetView set) const;
  std::vector<uint64_t> SlotsOfEpochs(std::span<const uint32_t> sorted_epochs) const;

  uint64_t Count(const uint64_t* slots) const;
  // Whether the slots hold events of at least `minimum` distinct hosts.
  bool HasHosts(const uint64_t* slots, uint64_t minimum) const;

 private:
  std::vector<uint32_t> epochs_;
  std::vector<uint64_t> counts_;
  std::vector<uint32_t> hosts_;
  uint64_t total_ = 0;
  bool unit_counts_ = true;
  mutable std::vector<uint32_t> host_stamp_;
  mutable uint32_t stamp_ = 0;
};

// slots = a & b, over `words` words.
inline void AndSlots(const uint64_t* a, const uint64_t* b, uint64_t* out, size_t words) {
  for (size_t i = 0; i < words; ++i) out[i] = a[i] & b[i];
}

}  // namespace fscanary::analysis
