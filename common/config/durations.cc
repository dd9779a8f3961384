#include "common/config/durations.h"

#include <array>
#include <charconv>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace fscanary::config {
namespace {

struct Unit {
  std::string_view suffix;
  int64_t milliseconds;
};
// Longest suffix first where one is a prefix of another ("ms" before "m").
constexpr std::array<Unit, 5> kUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 60 * 60 * 1000},
    {"d", 24 * 60 * 60 * 1000},
}};

}  // namespace

absl::StatusOr<Duration> ParseDuration(std::string_view text) {
  const std::string quoted = absl::StrCat("'", absl::string_view(text.data(), text.size()), "'");
  auto bad = [&] {
    return absl::InvalidArgumentError(quoted +
                                      " is not a duration (examples: 30s, 5m, 1h, 100ms, 30d)");
  };
  if (text == "0") return Duration(0);
  if (text.empty()) return bad();
  int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (error == std::errc::result_out_of_range) {
      return absl::OutOfRangeError(quoted + " is too long a duration");
    }
    if (error != std::errc() || end == rest.data() || value < 0) return bad();
    rest.remove_prefix(static_cast<size_t>(end - rest.data()));
    if (rest.empty()) {
      return absl::InvalidArgumentError(quoted + " needs a unit (ms, s, m, h or d), as in 30s");
    }
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (rest.starts_with(candidate.suffix)) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) return bad();
    rest.remove_prefix(unit->suffix.size());
    if (value > (std::numeric_limits<int64_t>::max() - total) / unit->milliseconds) {
      return absl::OutOfRangeError(quoted + " is too long a duration");
    }
    total += value * unit->milliseconds;
  }
  return Duration(total);
}

std::string FormatDuration(Duration duration) {
  const int64_t milliseconds = duration.count();
  if (milliseconds == 0) return "0s";
  for (auto unit = kUnits.rbegin(); unit != kUnits.rend(); ++unit) {
    if (milliseconds % unit->milliseconds == 0) {
      return absl::StrCat(milliseconds / unit->milliseconds,
                          absl::string_view(unit->suffix.data(), unit->suffix.size()));
    }
  }
  return absl::StrCat(milliseconds, "ms");
}

std::string FormatByteSize(uint64_t bytes) {
  constexpr std::array<std::pair<int, char>, 4> kShifts = {
      {{40, 'T'}, {30, 'G'}, {20, 'M'}, {10, 'K'}}};
  if (bytes == 0) return "0";
  for (const auto& [shift, suffix] : kShifts) {
    const uint64_t unit = uint64_t{1} << shift;
    if (bytes % unit == 0) return absl::StrCat(bytes / unit, std::string(1, suffix));
  }
  return absl::StrCat(bytes);
}

}  // namespace fscanary::config
