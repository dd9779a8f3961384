#pragma once
// `fscanary-collector --config FILE`: opens the store, serves ingest, queries
// and metrics, keeps the fleet aggregates fresh and applies retention, until
// SIGTERM or SIGINT.

#include <string>

#include "absl/status/statusor.h"
#include "collector/config/collector_config.h"
#include "collector/daemon/boost_decider.h"
#include "collector/service/server.h"
#include "collector/store/store.h"

namespace fscanary::collector {

// The server's and the store's options for a parsed config (reads the tokens
// file it names).
absl::StatusOr<ServerOptions> ServerOptionsFromConfig(const config::CollectorConfig& config);
store::StoreOptions StoreOptionsFromConfig(const config::CollectorConfig& config);
// The adaptive section as the decider's options.
BoostDeciderOptions BoostDeciderOptionsFromConfig(const config::CollectorConfig& config);

// Returns the process exit code: 0 after a clean stop, 2 when the config or
// the environment does not let the collector start.
int RunCollector(const std::string& config_path);

}  // namespace fscanary::collector
