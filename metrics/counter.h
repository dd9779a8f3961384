#pragma once
// A monotonic counter: the value of one series of a counter family.

#include <atomic>
#include <cmath>
#include <cstdint>

#include "metrics/metric_family.h"

namespace fscanary::metrics {

// Thread-safe and lock-free. Whole increments (the common case) are one
// atomic add on an integer, so they stay exact past 2^53 and cost no
// compare-and-swap loop; fractional ones (seconds, say) go to a separate
// double. Aligned to a cache line so that two hot counters never share one.
class alignas(64) Counter {
 public:
  struct Config {};
  static constexpr MetricType kType = MetricType::kCounter;

  explicit Counter(const Config& /*config*/ = {}) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Increment() { whole_.fetch_add(1, std::memory_order_relaxed); }

  // Adds `amount`. A counter only goes up: a negative, zero or NaN amount is
  // ignored rather than corrupting the series.
  void Increment(double amount) {
    if (!(amount > 0)) return;
    if (amount <= kLargestExactWhole && amount == std::trunc(amount)) {
      whole_.fetch_add(static_cast<uint64_t>(amount), std::memory_order_relaxed);
    } else {
      fraction_.fetch_add(amount, std::memory_order_relaxed);
    }
  }

  double Value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
           fraction_.load(std::memory_order_relaxed);
  }

  Series Collect() const { return {.value = Value()}; }

 private:
  static constexpr double kLargestExactWhole = 9007199254740992.0;  // 2^53

  std::atomic<uint64_t> whole_{0};
  std::atomic<double> fraction_{0};
};

}  // namespace fscanary::metrics
