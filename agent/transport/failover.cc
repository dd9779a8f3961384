#include "agent/transport/failover.h"

#include <algorithm>

namespace fscanary::transport {

Failover::Failover(size_t addresses, int backoff_initial_ms, int backoff_max_ms)
    : addresses_(std::max<size_t>(addresses, 1)),
      initial_ms_(backoff_initial_ms),
      max_ms_(std::max(backoff_max_ms, backoff_initial_ms)),
      backoff_ms_(backoff_initial_ms) {}

int Failover::StreamEnded(bool healthy) {
  current_ = (current_ + 1) % addresses_;
  if (healthy) {
    failures_ = 0;
    backoff_ms_ = initial_ms_;
    return backoff_ms_;
  }
  const int wait_ms = backoff_ms_;
  ++failures_;
  // Every address failed since the last healthy stream: back off further.
  if (failures_ % addresses_ == 0) backoff_ms_ = std::min(max_ms_, backoff_ms_ * 2);
  return wait_ms;
}

}  // namespace fscanary::transport
