#pragma once
// Keeps a storm of one kernel error from flooding the collector: for each
// (signature, device), at most `events_per_window` events are reported per
// window; the others are counted, and their count rides on the next event
// reported for the same key. Time is the kernel's clock from the records, so
// a boot backlog read late is limited as it happened. Not thread-safe.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fscanary::kmsg {

class EventLimiter {
 public:
  struct Options {
    // 0: no limit.
    uint32_t events_per_window = 10;
    uint64_t window_usec = 60'000'000;
    // Keys beyond this many (a flood of distinct device names) share one key
    // per signature, with device "*".
    size_t max_keys = 4096;
  };

  struct Decision {
    bool report = true;
    // Lines of this key withheld since its previous reported event.
    uint64_t suppressed_before = 0;
  };

  struct SuppressedCount {
    std::string signature;
    std::string device;
    // Withheld and not yet carried by a reported event.
    uint64_t pending = 0;
    // Withheld since the limiter was made.
    uint64_t total = 0;
  };

  explicit EventLimiter(Options options) : options_(options) {}

  // Decides on one matching line seen at kernel time `now_usec`.
  Decision Admit(std::string_view signature, std::string_view device, uint64_t now_usec);

  // Every key that has had lines withheld.
  std::vector<SuppressedCount> Suppressed() const;
  uint64_t total_suppressed() const { return total_suppressed_; }

 private:
  struct KeyState {
    uint64_t window_start_usec = 0;
    uint32_t reported_in_window = 0;
    uint64_t pending = 0;
    uint64_t total = 0;
  };

  Options options_;
  std::map<std::pair<std::string, std::string>, KeyState, std::less<>> keys_;
  uint64_t total_suppressed_ = 0;
};

}  // namespace fscanary::kmsg
