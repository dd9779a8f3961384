#pragma once
// Checks of values both configs hold (addresses, paths, names, log levels), so a
// typo is reported with its key and line at load time rather than as a failure
// at start. Each returns InvalidArgument whose message reads after the key.

#include <string_view>

#include "absl/status/status.h"

namespace fscanary::config {

// Where a gRPC server listens: "host:port" (host a name, an IPv4 address or a
// bracketed IPv6 address; port 0-65535) or "unix:/absolute/path".
absl::Status ValidateGrpcListen(std::string_view address);

// Where the metrics server listens: an IPv4 address and a port, as civetweb
// takes it ("127.0.0.1:9464", "0.0.0.0:9464").
absl::Status ValidateMetricsListen(std::string_view address);

// A gRPC target the agent dials ("host:port", "dns:///host:port",
// "unix:/path"): gRPC resolves it, so only emptiness and blanks are checked.
absl::Status ValidateGrpcTarget(std::string_view target);

// An absolute path, as a daemon started by systemd (working directory /) needs.
absl::Status ValidateAbsolutePath(std::string_view path);

// An agent id: 1-128 bytes of [A-Za-z0-9._:-] (what the collector accepts).
absl::Status ValidateAgentId(std::string_view agent_id);

// spdlog's level names: trace, debug, info, warn, error, critical, off.
absl::Status ValidateLogLevel(std::string_view level);

}  // namespace fscanary::config
