#include "agent/facts/kernel_config.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "agent/facts/fact_text.h"
#include "agent/facts/facts_io.h"
#include "agent/facts/gunzip.h"
#include "common/digest/sha256.h"

namespace fscanary::facts {
namespace {

bool IsOptionName(absl::string_view name) {
  if (!absl::StartsWith(name, "CONFIG_") || name.size() == 7) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// Kconfig writes strings as "..." with \" and \\ escaped.
std::string ConfigValue(absl::string_view value) {
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return std::string(value);
  value = value.substr(1, value.size() - 2);
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '\\' && i + 1 < value.size()) ++i;
    out.push_back(value[i]);
  }
  return out;
}

KernelConfig FromText(std::string source, const std::string& text) {
  return {.source = std::move(source),
          .sha256 = digest::Sha256Hex(text),
          .options = ParseKernelConfig(text)};
}

}  // namespace

std::map<std::string, std::string> ParseKernelConfig(std::string_view text) {
  std::map<std::string, std::string> options;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, "# ")) {
      if (absl::ConsumeSuffix(&line, " is not set") && IsOptionName(line)) {
        // insert_or_assign with a std::string: GCC 12 warns falsely (-Wrestrict)
        // about operator=(const char*) here.
        options.insert_or_assign(std::string(line), std::string(1, 'n'));
      }
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == absl::string_view::npos || !IsOptionName(line.substr(0, equals))) continue;
    options[std::string(line.substr(0, equals))] = FactText(ConfigValue(line.substr(equals + 1)));
  }
  return options;
}

KernelConfig ReadKernelConfig(const sysfs::SystemRoots& roots, const std::string& release) {
  if (std::optional<std::string> compressed = ReadOptionalFile(roots.Proc() / "config.gz")) {
    if (absl::StatusOr<std::string> text = Gunzip(*compressed); text.ok()) {
      return FromText("/proc/config.gz", *text);
    }
  }
  if (release.empty()) return {};
  const std::string boot_config = "/boot/config-" + release;
  if (std::optional<std::string> text = ReadOptionalFile(roots.Under(boot_config))) {
    return FromText(boot_config, *text);
  }
  return {};
}

}  // namespace fscanary::facts
