#include "agent/daemon/boost.h"

#include <algorithm>
#include <cmath>

namespace fscanary::daemon {

void Boost::Offer(double factor, uint64_t now_ns) {
  // NaN and anything below 1 are "no boost"; +inf is clamped like any other.
  const double clamped = factor >= 1 ? std::min(factor, ceiling_) : 1.0;
  std::lock_guard lock(mutex_);
  factor_ = std::max(clamped, 1.0);
  lapses_at_ns_ = now_ns + lapse_ns_;
}

double Boost::InForce(uint64_t now_ns) const {
  std::lock_guard lock(mutex_);
  return now_ns < lapses_at_ns_ ? factor_ : 1.0;
}

}  // namespace fscanary::daemon
