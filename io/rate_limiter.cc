#include "io/rate_limiter.h"

#include <algorithm>

namespace fscanary::io {

uint64_t RateLimiter::ReserveOn(double& debt_until_ns, double per_second, double amount,
                                uint64_t now_ns, double burst_ns) {
  if (per_second <= 0) return 0;
  const double now = static_cast<double>(now_ns);
  // The I/O may start once earlier work is paid for, less the burst allowance;
  // its own cost is paid after it.
  const double start = std::max(debt_until_ns, now);
  debt_until_ns = start + amount / per_second * 1e9;
  const double wait = start - now - burst_ns;
  return wait > 0 ? static_cast<uint64_t>(wait) : 0;
}

uint64_t RateLimiter::Reserve(uint64_t bytes, uint64_t ios, uint64_t now_ns) {
  const double burst_ns = limits_.burst_seconds * 1e9;
  const uint64_t bytes_wait = ReserveOn(bytes_debt_until_ns_, limits_.bytes_per_second,
                                        static_cast<double>(bytes), now_ns, burst_ns);
  const uint64_t ios_wait = ReserveOn(ios_debt_until_ns_, limits_.ios_per_second,
                                      static_cast<double>(ios), now_ns, burst_ns);
  return std::max(bytes_wait, ios_wait);
}

}  // namespace fscanary::io
