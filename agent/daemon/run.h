#pragma once
// `fscanary-agent run --config FILE`: loads the config, runs the daemon until
// SIGTERM or SIGINT, and reloads the config on SIGHUP (a bad new config is
// logged and the running one kept).

#include <string>

#include "absl/status/statusor.h"
#include "agent/config/agent_config.h"
#include "agent/daemon/daemon.h"

namespace fscanary::daemon {

// The daemon's options for a parsed config (reads the machine id and token
// files it names).
absl::StatusOr<DaemonOptions> OptionsFromConfig(const config::AgentConfig& config);

// Returns the process exit code: 0 after a clean stop, 2 when the config or
// the environment does not let the agent start.
int RunDaemon(const std::string& config_path);

}  // namespace fscanary::daemon
