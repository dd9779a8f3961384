#pragma once
// Checks every field of a message an agent sent before anything is stored:
// sizes, ranges, strings, sequence numbers (a record's is 1 to 2^63-1, the
// store's integer range). Pure; the reason of a rejection is a short stable
// token used as a metric label, the message says the detail. A message that
// passes never makes the store refuse a group commit, so one agent's bad
// record cannot fail another agent's records committed with it.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "fscanary/v1/ingest.pb.h"

namespace fscanary::collector {

struct ValidationLimits {
  uint64_t max_string_bytes = 4096;
  uint64_t max_config_options = 20000;
  uint64_t max_devices = 256;
  uint64_t max_checkers = 256;
  uint64_t max_sectors = 2048;
  uint64_t max_ranges = 64;
  uint64_t max_latency_buckets = 64;
};

struct Rejection {
  // "sequence", "missing_body", "agent_id", "string", "range", "size", ...
  std::string reason;
  std::string detail;
};

// Nullopt-like: an empty reason means the message is valid.
Rejection ValidateAgentMessage(const v1::AgentMessage& message, const ValidationLimits& limits);

// An agent id: 1-128 bytes of [A-Za-z0-9._:-].
bool IsValidAgentId(const std::string& agent_id);

}  // namespace fscanary::collector
