#pragma once
// The checker's share of the agent's I/O budget: every read, write and
// metadata syscall on the tree is charged here first, and waits if the
// budget is spent.

#include <cstdint>

#include "io/posix.h"
#include "io/rate_limiter.h"

namespace fscanary::metadata {

struct IoBudget {
  // Null: unlimited. Not owned.
  io::RateLimiter* limiter = nullptr;

  // Waits until `bytes` and `ios` may be issued.
  void Charge(uint64_t bytes, uint64_t ios) const {
    if (limiter != nullptr) io::SleepNanos(limiter->Reserve(bytes, ios, io::MonotonicNanos()));
  }
};

}  // namespace fscanary::metadata
