#pragma once
// Saves the evidence of one finding: the block as found, the block as
// expected, and a JSON summary, in the evidence store of `root`
// (checkers/evidence: once per finding, under a quota).

#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::verify {

struct Finding;

// Returns the directory that holds it:
// <root>/<target id>/<offset>-<kind>-<unix ns>-g<generation>, written now or,
// for a persistent finding already kept, earlier. ResourceExhausted when the
// quota holds only the first evidence of other findings.
absl::StatusOr<std::string> SaveEvidence(const std::string& root, uint64_t target_id,
                                         const Finding& finding, std::span<const std::byte> found,
                                         std::span<const std::byte> expected);

}  // namespace fscanary::verify
