#include "collector/analysis/event_index.h"

#include <algorithm>
#include <bit>

namespace fscanary::analysis {

EventIndex::EventIndex(const Fleet& fleet, std::optional<KindId> kind)
    : host_stamp_(fleet.host_count(), 0) {
  for (const CorruptionCount& corruption : fleet.corruptions()) {
    if (kind.has_value() && corruption.kind != *kind) continue;
    if (corruption.count == 0) continue;
    if (!epochs_.empty() && epochs_.back() == corruption.epoch) {
      counts_.back() += corruption.count;
    } else {
      epochs_.push_back(corruption.epoch);
      counts_.push_back(corruption.count);
      hosts_.push_back(fleet.epoch_host(corruption.epoch));
    }
    total_ += corruption.count;
  }
  unit_counts_ = std::all_of(counts_.begin(), counts_.end(), [](uint64_t c) { return c == 1; });
}

std::vector<uint64_t> EventIndex::SlotsOf(BitsetView set) const {
  std::vector<uint64_t> slots(words(), 0);
  for (size_t i = 0; i < epochs_.size(); ++i) {
    if (Contains(set, epochs_[i])) slots[i / 64] |= uint64_t{1} << (i % 64);
  }
  return slots;
}

std::vector<uint64_t> EventIndex::SlotsOfEpochs(std::span<const uint32_t> sorted_epochs) const {
  std::vector<uint64_t> slots(words(), 0);
  size_t j = 0;
  for (size_t i = 0; i < epochs_.size(); ++i) {
    while (j < sorted_epochs.size() && sorted_epochs[j] < epochs_[i]) ++j;
    if (j < sorted_epochs.size() && sorted_epochs[j] == epochs_[i]) {
      slots[i / 64] |= uint64_t{1} << (i % 64);
    }
  }
  return slots;
}

uint64_t EventIndex::Count(const uint64_t* slots) const {
  const size_t n = words();
  uint64_t count = 0;
  if (unit_counts_) {
    for (size_t i = 0; i < n; ++i) count += std::popcount(slots[i]);
    return count;
  }
  for (size_t i = 0; i < n; ++i) {
    for (uint64_t bits = slots[i]; bits != 0; bits &= bits - 1) {
      count += counts_[i * 64 + std::countr_zero(bits)];
    }
  }
  return count;
}

bool EventIndex::HasHosts(const uint64_t* slots, uint64_t minimum) const {
  if (minimum <= 1) return minimum == 0 || Count(slots) > 0;
  ++stamp_;
  uint64_t distinct = 0;
  const size_t n = words();
  for (size_t i = 0; i < n; ++i) {
    for (uint64_t bits = slots[i]; bits != 0; bits &= bits - 1) {
      const uint32_t host = hosts_[i * 64 + std::countr_zero(bits)];
      if (host_stamp_[host] == stamp_) continue;
      host_stamp_[host] = stamp_;
      if (++distinct >= minimum) return true;
    }
  }
  return false;
}

}  // namespace fscanary::analysis
