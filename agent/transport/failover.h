#pragma once
// Which collector the agent connects to next, and how long it waits first:
// the sender's connection choice, pure (no clock, no network) so that it is
// tested on its own.
//
// The agent keeps to one collector while its streams are healthy. When a
// stream ends (the collector died, hung up or cannot be reached), it moves to
// the next address in the configured order, wrapping around. The wait before
// each attempt is the current backoff; the backoff doubles (up to its
// maximum) only after a whole round of addresses failed in a row, so a dead
// collector costs one short wait before the next is tried, and a fleet-wide
// outage backs off as one collector would. A healthy stream (one that got
// records acknowledged) resets it. With one address this is the plain
// exponential backoff.
//
// Not thread-safe: the sender's thread owns it.

#include <cstddef>
#include <cstdint>

namespace fscanary::transport {

class Failover {
 public:
  // `addresses` >= 1; 0 < initial_ms <= max_ms.
  Failover(size_t addresses, int backoff_initial_ms, int backoff_max_ms);

  // The index of the address to connect to now.
  size_t current() const { return current_; }

  // The stream to current() ended; `healthy` when it got records
  // acknowledged. Moves to the next address and returns how long to wait
  // before connecting to it (before jitter).
  int StreamEnded(bool healthy);

 private:
  const size_t addresses_;
  const int initial_ms_;
  const int max_ms_;
  size_t current_ = 0;
  int backoff_ms_;
  // Streams in a row that ended without being healthy.
  uint64_t failures_ = 0;
};

}  // namespace fscanary::transport
