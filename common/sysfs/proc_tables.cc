#include "common/sysfs/proc_tables.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace fscanary::sysfs {
namespace {

bool IsOctalDigit(char c) { return c >= '0' && c <= '7'; }

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> fields;
  for (absl::string_view field : absl::StrSplit(absl::string_view(line.data(), line.size()),
                                                absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    fields.emplace_back(field.data(), field.size());
  }
  return fields;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipWhitespace())) {
    lines.emplace_back(line.data(), line.size());
  }
  return lines;
}

absl::Status Malformed(std::string_view table, std::string_view line) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed ", absl::string_view(table.data(), table.size()), " line: '",
                   absl::string_view(line.data(), line.size()), "'"));
}

bool ParseDeviceNumber(std::string_view text, DeviceNumber& number) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view major = text.substr(0, colon);
  const std::string_view minor = text.substr(colon + 1);
  return absl::SimpleAtoi(absl::string_view(major.data(), major.size()), &number.major) &&
         absl::SimpleAtoi(absl::string_view(minor.data(), minor.size()), &number.minor);
}

}  // namespace

std::string UnescapeProcPath(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size() && IsOctalDigit(escaped[i + 1]) &&
        IsOctalDigit(escaped[i + 2]) && IsOctalDigit(escaped[i + 3])) {
      out.push_back(static_cast<char>((escaped[i + 1] - '0') * 64 + (escaped[i + 2] - '0') * 8 +
                                      (escaped[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(escaped[i]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<MountInfoEntry>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfoEntry> entries;
  for (std::string_view line : Lines(text)) {
    // id parent major:minor root mount-point options [optional...] - fstype source super-options
    const std::vector<std::string_view> fields = Fields(line);
    const auto separator = std::find(fields.begin(), fields.end(), std::string_view("-"));
    if (fields.size() < 6 || separator - fields.begin() < 6 || fields.end() - separator < 3) {
      return Malformed("mountinfo", line);
    }
    MountInfoEntry entry;
    if (!ParseDeviceNumber(fields[2], entry.number)) return Malformed("mountinfo", line);
    entry.mount_point = UnescapeProcPath(fields[4]);
    entry.fs_type = UnescapeProcPath(separator[1]);
    entry.source = UnescapeProcPath(separator[2]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

absl::StatusOr<std::vector<SwapsEntry>> ParseSwaps(std::string_view text) {
  std::vector<SwapsEntry> entries;
  const std::vector<std::string_view> lines = Lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::vector<std::string_view> fields = Fields(lines[i]);
    if (i == 0 && !fields.empty() && fields[0] == "Filename") continue;  // the header
    if (fields.size() < 5) return Malformed("swaps", lines[i]);
    entries.push_back({.path = UnescapeProcPath(fields[0]), .type = std::string(fields[1])});
  }
  return entries;
}

}  // namespace fscanary::sysfs
