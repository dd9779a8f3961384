#include "checkers/kmsg/kmsg_record.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace fscanary::kmsg {
namespace {

// The first bytes of a record, for error messages: enough to find it in a
// dmesg dump, never the whole (possibly binary) record.
std::string Quote(std::string_view raw) {
  constexpr size_t kMax = 64;
  std::string quoted;
  for (const char c : raw.substr(0, kMax)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) {
      absl::StrAppend(&quoted, "\\x", absl::Hex(byte, absl::kZeroPad2));
    } else {
      quoted.push_back(c);
    }
  }
  if (raw.size() > kMax) quoted += "...";
  return absl::StrCat("\"", quoted, "\"");
}

template <typename T>
std::optional<T> ParseNumber(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits off the text up to the next '\n' (or the end) and the rest after it.
std::pair<std::string_view, std::string_view> NextLine(std::string_view text) {
  const size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return {text, {}};
  return {text.substr(0, newline), text.substr(newline + 1)};
}

}  // namespace

std::optional<std::string> KmsgRecord::Property(std::string_view key) const {
  for (const auto& [name, value] : properties) {
    if (name == key) return value;
  }
  return std::nullopt;
}

std::string UnescapeKmsg(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size() && escaped[i + 1] == 'x') {
      const int high = HexDigit(escaped[i + 2]);
      const int low = HexDigit(escaped[i + 3]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 3;
        continue;
      }
    }
    out.push_back(escaped[i]);
  }
  return out;
}

absl::StatusOr<KmsgRecord> ParseKmsgRecord(std::string_view raw) {
  const size_t semicolon = raw.find(';');
  if (semicolon == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("kmsg record without ';': ", Quote(raw)));
  }
  const std::string_view header = raw.substr(0, semicolon);
  if (header.find('\n') != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("kmsg record header spans lines: ", Quote(raw)));
  }
  // prio, seq, ts_usec, flags, then fields newer kernels may add (caller=...).
  std::string_view fields[4];
  std::string_view rest = header;
  for (int i = 0; i < 4; ++i) {
    const size_t comma = rest.find(',');
    if (comma == std::string_view::npos && i < 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("kmsg record header has fewer than four fields: ", Quote(raw)));
    }
    fields[i] = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  const auto prio = ParseNumber<uint32_t>(fields[0]);
  const auto sequence = ParseNumber<uint64_t>(fields[1]);
  const auto timestamp = ParseNumber<uint64_t>(fields[2]);
  if (!prio || !sequence || !timestamp) {
    return absl::InvalidArgumentError(
        absl::StrCat("kmsg record header is not numeric: ", Quote(raw)));
  }

  KmsgRecord record;
  record.facility = static_cast<int>(*prio >> 3);
  record.level = static_cast<int>(*prio & 7);
  record.sequence = *sequence;
  record.timestamp_usec = *timestamp;
  record.continuation = fields[3].find_first_of("c+") != std::string_view::npos;

  auto [message, properties] = NextLine(raw.substr(semicolon + 1));
  record.message = UnescapeKmsg(message);
  while (!properties.empty()) {
    auto [line, after] = NextLine(properties);
    properties = after;
    if (line.empty()) continue;
    if (line.front() != ' ') {
      return absl::InvalidArgumentError(
          absl::StrCat("kmsg record property line not led by a space: ", Quote(raw)));
    }
    line.remove_prefix(1);
    const size_t equals = line.find('=');
    const std::string_view key = line.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : line.substr(equals + 1);
    record.properties.emplace_back(UnescapeKmsg(key), UnescapeKmsg(value));
  }
  return record;
}

}  // namespace fscanary::kmsg
