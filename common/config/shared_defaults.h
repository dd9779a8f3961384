#pragma once
// Defaults the agent's and the collector's configs must agree on. gRPC servers
// answer a client that pings more often than they permit with GOAWAY
// "too_many_pings", so the agent's keepalive_time must not be shorter than the
// collector's keepalive.min_time: each config checks its side against the
// other's default, and docs/CONFIG.md says so.

#include <chrono>

#include "common/config/durations.h"

namespace fscanary::config {

inline constexpr char kDefaultCollectorAddress[] = "127.0.0.1:7420";

// The agent pings the collector this often (AgentConfig collector.keepalive_time).
inline constexpr Duration kAgentDefaultKeepaliveTime = std::chrono::seconds(30);
// The collector accepts pings no more often than this (keepalive.min_time).
inline constexpr Duration kCollectorDefaultKeepaliveMinTime = std::chrono::seconds(10);

}  // namespace fscanary::config
