#include "checkers/kmsg/event_limiter.h"

namespace fscanary::kmsg {

EventLimiter::Decision EventLimiter::Admit(std::string_view signature, std::string_view device,
                                           uint64_t now_usec) {
  if (options_.events_per_window == 0) return {};
  auto it = keys_.find(std::pair(std::string(signature), std::string(device)));
  if (it == keys_.end()) {
    const bool full = keys_.size() >= options_.max_keys;
    std::pair key(std::string(signature), full ? std::string(1, '*') : std::string(device));
    it = keys_.try_emplace(std::move(key), KeyState{.window_start_usec = now_usec}).first;
  }
  KeyState& state = it->second;
  // A new window starts with the first line after the old one ended. Kernel
  // timestamps from different CPUs may step back a little: still this window.
  if (now_usec >= state.window_start_usec &&
      now_usec - state.window_start_usec >= options_.window_usec) {
    state.window_start_usec = now_usec;
    state.reported_in_window = 0;
  }
  if (state.reported_in_window < options_.events_per_window) {
    ++state.reported_in_window;
    const uint64_t carried = state.pending;
    state.pending = 0;
    return {.report = true, .suppressed_before = carried};
  }
  ++state.pending;
  ++state.total;
  ++total_suppressed_;
  return {.report = false};
}

std::vector<EventLimiter::SuppressedCount> EventLimiter::Suppressed() const {
  std::vector<SuppressedCount> counts;
  for (const auto& [key, state] : keys_) {
    if (state.total == 0) continue;
    counts.push_back({.signature = key.first,
                      .device = key.second,
                      .pending = state.pending,
                      .total = state.total});
  }
  return counts;
}

}  // namespace fscanary::kmsg
