#pragma once
// The verification boost the collector asked this agent for (Hint.boost_factor,
// docs/CORRELATION.md "Adaptive verification"), as the agent lets it act:
// clamped to the agent's own ceiling, and lapsing on its own when the
// collector does not renew it, so that a collector that dies leaves no agent
// boosted. A boost only shortens the checkers' schedule; the agent's budget
// (bytes, I/Os and CPU share) is never raised by it.

#include <cstdint>
#include <mutex>

namespace fscanary::daemon {

// Thread-safe: the sender's reply thread offers, the I/O loop reads.
class Boost {
 public:
  // `ceiling` >= 1 (1: every hint is ignored); `lapse_ns`: how long a hint
  // holds without being renewed.
  Boost(double ceiling, uint64_t lapse_ns) : ceiling_(ceiling), lapse_ns_(lapse_ns) {}

  // A hint received at `now_ns` (monotonic). A factor below 1, absent (0) or
  // not a number asks for no boost and ends one in force at once.
  void Offer(double factor, uint64_t now_ns);
  // The factor in force at `now_ns`: 1 when none was offered, or the last
  // one lapsed; never above the ceiling.
  double InForce(uint64_t now_ns) const;

 private:
  const double ceiling_;
  const uint64_t lapse_ns_;
  mutable std::mutex mutex_;
  double factor_ = 1;
  uint64_t lapses_at_ns_ = 0;
};

}  // namespace fscanary::daemon
