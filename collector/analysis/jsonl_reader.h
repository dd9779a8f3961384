#pragma once
// Reads a fleet from JSON lines, one host epoch per line:
//   {"host": "vm-0001", "attributes": {"kernel": "4.19.2", "scheduler": "none"},
//    "exposure_bytes": 1.2e12, "exposure_seconds": 86400, "corruptions": 0}
// "corruptions" is a count, or an object of counts by kind
// ({"lost_write": 1}). "start_seconds" (optional) is when the epoch began,
// in Unix seconds: fix confirmation orders a host's epochs by it. Attribute values may be strings,
// numbers or booleans; null means "not set". Unknown fields are ignored; blank lines are skipped.
// Bad lines are reported with their 1-based line number.

#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

enum class BadLinePolicy { kSkip, kFail };

struct JsonlOptions {
  BadLinePolicy on_bad_line = BadLinePolicy::kFail;
  FleetLayout layout;
};

struct BadLine {
  uint64_t line = 0;
  std::string reason;
};

struct JsonlFleet {
  Fleet fleet;
  std::vector<BadLine> bad_lines;  // skipped, with kSkip
  uint64_t lines = 0;
};

// InvalidArgument naming the line for a bad line under kFail; DataLoss if the
// stream fails other than at its end.
absl::StatusOr<JsonlFleet> ReadFleetJsonl(std::istream& input, const JsonlOptions& options);

}  // namespace fscanary::analysis
