#pragma once
// Keeps I/O within a budget of bytes per second and I/Os per second, so the
// agent can run on production VMs without being noticed.

#include <cstdint>

namespace fscanary::io {

// Two token buckets (bytes, operations) kept as theoretical arrival times.
// A limit of 0 means unlimited. Pure: time is passed in, so tests drive it.
// Not thread-safe.
class RateLimiter {
 public:
  struct Limits {
    double bytes_per_second = 0;
    double ios_per_second = 0;
    // Work that may be issued at once after an idle period.
    double burst_seconds = 0.05;
  };

  explicit RateLimiter(const Limits& limits) : limits_(limits) {}

  // Accounts an I/O of `bytes` issued no earlier than `now_ns`, and returns how
  // many nanoseconds the caller must wait before issuing it.
  uint64_t Reserve(uint64_t bytes, uint64_t ios, uint64_t now_ns);

  bool unlimited() const { return limits_.bytes_per_second <= 0 && limits_.ios_per_second <= 0; }

 private:
  static uint64_t ReserveOn(double& debt_until_ns, double per_second, double amount,
                            uint64_t now_ns, double burst_ns);

  Limits limits_;
  double bytes_debt_until_ns_ = 0;
  double ios_debt_until_ns_ = 0;
};

}  // namespace fscanary::io
