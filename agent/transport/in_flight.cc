#include "agent/transport/in_flight.h"

namespace fscanary::transport {

void InFlight::Add(uint64_t sequence) {
  std::lock_guard lock(mutex_);
  sequences_.insert(sequence);
}

size_t InFlight::size() const {
  std::lock_guard lock(mutex_);
  return sequences_.size();
}

InFlight::Taken InFlight::Take(std::span<const spool::SequenceRange> ranges) {
  std::lock_guard lock(mutex_);
  Taken taken;
  for (const auto& [first, last] : ranges) {
    if (first == 0 || last < first) {
      ++taken.ignored_ranges;
      continue;
    }
    uint64_t named = 0;
    for (auto it = sequences_.lower_bound(first); it != sequences_.end() && *it <= last;) {
      if (!taken.ranges.empty() && taken.ranges.back().second + 1 == *it) {
        taken.ranges.back().second = *it;
      } else {
        taken.ranges.emplace_back(*it, *it);
      }
      it = sequences_.erase(it);
      ++named;
    }
    taken.records += named;
    // last - first + 1 cannot overflow: first is at least 1.
    if (named != last - first + 1) ++taken.ignored_ranges;
  }
  return taken;
}

}  // namespace fscanary::transport
