#pragma once
// The collector's table of agent tokens (tokens_file): one "agent_id token"
// per line; blank lines and lines starting with '#' are ignored. Tokens are
// secrets: no message here ever contains one.

#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace fscanary::config {

// Whose tokens a file holds: agents' (tokens_file, "agent_id token") or
// operators' (operator_tokens_file, "name token", names following the
// agent id rule).
enum class TokenHolder { kAgent, kOperator };

// agent id (or operator name) -> token. Each problem (a malformed line, an invalid agent id, a
// token under 16 printable characters, an agent listed twice) is reported with
// `source` and its line, all in one InvalidArgument; so is a file with no token
// at all, which the collector would read as "check no tokens".
absl::StatusOr<std::map<std::string, std::string>> ParseTokens(
    std::string_view text, std::string_view source, TokenHolder holder = TokenHolder::kAgent);

absl::StatusOr<std::map<std::string, std::string>> LoadTokensFile(
    const std::string& path, TokenHolder holder = TokenHolder::kAgent);

}  // namespace fscanary::config
