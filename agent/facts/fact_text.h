#pragma once
// Turns text read from the system into a fact the collector accepts: trimmed,
// valid UTF-8 and not longer than the collector's limit for one string.

#include <cstddef>
#include <string>
#include <string_view>

namespace fscanary::facts {

// The collector's ValidationLimits::max_string_bytes.
inline constexpr size_t kMaxFactBytes = 4096;

// Leading and trailing whitespace removed, every byte that is not part of a
// valid UTF-8 sequence, and every NUL, replaced by '?', cut to at most
// kMaxFactBytes on a character boundary (Utf8Text). DMI strings and config values come from
// firmware and users; they are not always UTF-8.
std::string FactText(std::string_view raw);

}  // namespace fscanary::facts
