#pragma once
// A value that goes up and down: the value of one series of a gauge family.

#include <atomic>
#include <chrono>

#include "metrics/metric_family.h"

namespace fscanary::metrics {

// Thread-safe and lock-free (one atomic double). Aligned to a cache line so
// that two hot gauges never share one.
class alignas(64) Gauge {
 public:
  struct Config {};
  static constexpr MetricType kType = MetricType::kGauge;

  explicit Gauge(const Config& /*config*/ = {}) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Increment(double amount = 1) { value_.fetch_add(amount, std::memory_order_relaxed); }
  void Decrement(double amount = 1) { value_.fetch_sub(amount, std::memory_order_relaxed); }

  // Sets the gauge to the Unix time in seconds, for *_timestamp_seconds series.
  void SetToCurrentTime() {
    const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    Set(std::chrono::duration<double>(since_epoch).count());
  }

  double Value() const { return value_.load(std::memory_order_relaxed); }

  Series Collect() const { return {.value = Value()}; }

 private:
  std::atomic<double> value_{0};
};

}  // namespace fscanary::metrics
