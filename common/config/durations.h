#pragma once
// Durations and byte sizes as operators write them in configs (30s, 5m, 1h,
// 100ms, 30d; 4096, 64K, 1G), and the canonical text of each, used in the
// configs' canonical dumps.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace fscanary::config {

using Duration = std::chrono::milliseconds;

// One or more <integer><unit> parts, unit one of ms, s, m, h, d ("1h30m");
// "0" alone is zero. A bare number is refused: the unit is never guessed.
absl::StatusOr<Duration> ParseDuration(std::string_view text);

// The largest unit that divides `duration` exactly: 60000 ms is "1m", 1500 ms
// is "1500ms", 0 is "0s". ParseDuration(FormatDuration(d)) == d.
std::string FormatDuration(Duration duration);

// The largest binary unit that divides `bytes` exactly: 65536 is "64K", 1000
// is "1000". ParseByteSize(FormatByteSize(b)) == b.
std::string FormatByteSize(uint64_t bytes);

}  // namespace fscanary::config
