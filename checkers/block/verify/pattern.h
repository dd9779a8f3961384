#pragma once
// The order in which a pass visits a target's blocks. Runs of adjacent blocks
// are submitted together, so the block layer merges them into larger requests:
// the merge pressure the 2018 blk-mq corruption needed.

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::verify {

enum class Pattern : uint8_t {
  kSequential,  // runs in block order
  kRandom,      // single blocks in random order
  kMerge,       // runs of adjacent blocks, the runs in random order
};
absl::StatusOr<Pattern> ParsePattern(std::string_view name);
std::string_view PatternName(Pattern pattern);

// `count` adjacent blocks starting at `first_block`, submitted together.
struct Run {
  uint64_t first_block = 0;
  uint32_t count = 0;
  friend bool operator==(const Run&, const Run&) = default;
};

// Covers every block in [0, block_count) exactly once. `run_blocks` is the run
// length for kSequential and kMerge; `seed` fixes the random orders.
std::vector<Run> PlanRuns(uint64_t block_count, Pattern pattern, uint32_t run_blocks,
                          uint64_t seed);

}  // namespace fscanary::verify
