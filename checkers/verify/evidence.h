#pragma once
// Saves the evidence of one finding: the block as found, the block as
// expected, and a JSON summary, under a directory of its own.

#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::verify {

struct Finding;

// Returns the directory written: <root>/<target id>/<offset>-<kind>-<unix ns>.
absl::StatusOr<std::string> SaveEvidence(const std::string& root, uint64_t target_id,
                                         const Finding& finding, std::span<const std::byte> found,
                                         std::span<const std::byte> expected);

}  // namespace fscanary::verify
