#include "agent/config/credentials.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/config/text_file_io.h"
#include "common/status.h"

namespace fscanary::config {
namespace {

constexpr size_t kMinTokenLength = 16;

}  // namespace

absl::StatusOr<std::string> ReadMachineId(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path, 4096));
  const std::string id(absl::StripAsciiWhitespace(text));
  const bool valid = id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
                       return std::isxdigit(static_cast<unsigned char>(c));
                     });
  if (!valid) {
    return absl::FailedPreconditionError(
        path + " does not hold a machine id (32 hex digits); set agent_id in the config");
  }
  return id;
}

absl::StatusOr<std::string> ReadAgentToken(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path, 4096));
  const std::string token(absl::StripAsciiWhitespace(text));
  if (token.empty()) return absl::InvalidArgumentError(path + ": the token file is empty");
  if (!std::all_of(token.begin(), token.end(),
                   [](char c) { return std::isgraph(static_cast<unsigned char>(c)); })) {
    return absl::InvalidArgumentError(
        path + ": the token must be one word of printable characters (no blanks inside)");
  }
  if (token.size() < kMinTokenLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": the token is shorter than ", kMinTokenLength, " characters"));
  }
  return token;
}

}  // namespace fscanary::config
