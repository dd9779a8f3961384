#pragma once
// Runs the fscanary-agent under test (the binary CMake names in FSCANARY_AGENT)
// and keeps what it said: exit code, stdout parsed as JSON, stderr.

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "tests/integration/run_process.h"

namespace fscanary::testing {

struct AgentResult {
  // -1 when the agent was killed by a signal or could not be started.
  int exit_code = -1;
  ProcessResult process;
  // stdout as one JSON document; is_discarded() when it was not one.
  nlohmann::json json;

  // For failure messages: the exit code, stdout and stderr.
  std::string Describe() const;
};

std::string AgentPath();

// Runs `fscanary-agent args...` to completion.
AgentResult RunAgent(const std::vector<std::string>& args, const SpawnOptions& options = {});

// The target id a write or verify reported ("target_id", 16 hex digits).
uint64_t TargetIdOf(const nlohmann::json& json);

}  // namespace fscanary::testing
