#pragma once
// The agent's identity and secret as files hold them: /etc/machine-id (the
// default agent id) and the token file named by collector.token_file.

#include <string>

#include "absl/status/statusor.h"

namespace fscanary::config {

// The machine id (32 hex digits, surrounding blanks removed) used as the
// agent id when the config sets none. Errors name the file.
absl::StatusOr<std::string> ReadMachineId(const std::string& path = "/etc/machine-id");

// The token: the file's contents without surrounding blanks; one word of
// printable characters, at least 16. Error messages never contain the token.
absl::StatusOr<std::string> ReadAgentToken(const std::string& path);

}  // namespace fscanary::config
