#include "agent/facts/proc_text.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace fscanary::facts {
namespace {

absl::string_view Absl(std::string_view text) { return {text.data(), text.size()}; }

std::vector<absl::string_view> Lines(std::string_view text) {
  return absl::StrSplit(Absl(text), '\n', absl::SkipWhitespace());
}

// Shell-style unquoting of one os-release value.
std::string Unquote(absl::string_view value) {
  std::string out;
  char quote = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (quote == 0 && (c == '"' || c == '\'')) {
      quote = c;
    } else if (c == quote) {
      quote = 0;
    } else if (c == '\\' && quote != '\'' && i + 1 < value.size()) {
      const char next = value[i + 1];
      // Inside double quotes only these are escapes; elsewhere any char is.
      if (quote == 0 || next == '"' || next == '\\' || next == '$' || next == '`') {
        out.push_back(next);
        ++i;
      } else {
        out.push_back(c);
      }
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// "key<tab>: value" lines of /proc/cpuinfo and /proc/meminfo.
bool SplitColon(absl::string_view line, absl::string_view& key, absl::string_view& value) {
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return false;
  key = absl::StripAsciiWhitespace(line.substr(0, colon));
  value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  return true;
}

}  // namespace

std::map<std::string, std::string> ParseOsRelease(std::string_view text) {
  std::map<std::string, std::string> fields;
  for (absl::string_view line : Lines(text)) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    const size_t equals = line.find('=');
    if (equals == 0 || equals == absl::string_view::npos) continue;
    fields[std::string(line.substr(0, equals))] = Unquote(line.substr(equals + 1));
  }
  return fields;
}

CpuInfo ParseCpuInfo(std::string_view text) {
  // Architectures name the model differently; the first that is present wins.
  static constexpr absl::string_view kModelKeys[] = {"model name", "cpu model", "Processor", "cpu",
                                                     "uarch"};
  CpuInfo info;
  size_t model_rank = std::size(kModelKeys);
  for (absl::string_view line : Lines(text)) {
    absl::string_view key, value;
    if (!SplitColon(line, key, value)) continue;
    if (key == "processor") ++info.count;
    for (size_t rank = 0; rank < model_rank; ++rank) {
      if (key == kModelKeys[rank] && !value.empty()) {
        info.model = std::string(value);
        model_rank = rank;
        break;
      }
    }
  }
  return info;
}

uint64_t ParseMemTotalBytes(std::string_view text) {
  for (absl::string_view line : Lines(text)) {
    absl::string_view key, value;
    if (!SplitColon(line, key, value) || key != "MemTotal") continue;
    uint64_t kib = 0;
    if (!absl::SimpleAtoi(absl::StripSuffix(value, "kB"), &kib)) return 0;
    return kib * 1024;
  }
  return 0;
}

uint32_t CountCpuList(std::string_view text) {
  uint32_t count = 0;
  for (absl::string_view range :
       absl::StrSplit(absl::StripAsciiWhitespace(Absl(text)), ',', absl::SkipEmpty())) {
    const std::vector<absl::string_view> ends = absl::StrSplit(range, '-');
    uint32_t first = 0, last = 0;
    if (ends.size() > 2 || !absl::SimpleAtoi(ends.front(), &first) ||
        !absl::SimpleAtoi(ends.back(), &last) || last < first) {
      return 0;
    }
    count += last - first + 1;
  }
  return count;
}

std::string ActiveScheduler(std::string_view text) {
  const std::vector<absl::string_view> names =
      absl::StrSplit(Absl(text), absl::ByAnyChar(" \t\n"), absl::SkipEmpty());
  for (absl::string_view name : names) {
    if (name.size() > 2 && name.front() == '[' && name.back() == ']') {
      return std::string(name.substr(1, name.size() - 2));
    }
  }
  if (names.size() == 1) return std::string(names.front());
  return "";
}

std::optional<sysfs::DeviceNumber> ParseDeviceNumber(std::string_view text) {
  const std::vector<absl::string_view> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(Absl(text)), ':');
  sysfs::DeviceNumber number;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &number.major) ||
      !absl::SimpleAtoi(parts[1], &number.minor)) {
    return std::nullopt;
  }
  return number;
}

std::string BlockMajorName(std::string_view proc_devices, uint32_t major) {
  bool in_block_section = false;
  for (absl::string_view line : Lines(proc_devices)) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::EndsWith(line, ":")) {
      in_block_section = line == "Block devices:";
      continue;
    }
    if (!in_block_section) continue;
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    uint32_t number = 0;
    if (fields.size() == 2 && absl::SimpleAtoi(fields[0], &number) && number == major) {
      return std::string(fields[1]);
    }
  }
  return "";
}

}  // namespace fscanary::facts
