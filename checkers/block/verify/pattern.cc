#include "checkers/block/verify/pattern.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"

namespace fscanary::verify {

absl::StatusOr<Pattern> ParsePattern(std::string_view name) {
  if (name == "sequential") return Pattern::kSequential;
  if (name == "random") return Pattern::kRandom;
  if (name == "merge") return Pattern::kMerge;
  return absl::InvalidArgumentError(absl::StrCat("unknown pattern '",
                                                 absl::string_view(name.data(), name.size()),
                                                 "' (expected sequential, random or merge)"));
}

std::string_view PatternName(Pattern pattern) {
  switch (pattern) {
    case Pattern::kSequential:
      return "sequential";
    case Pattern::kRandom:
      return "random";
    case Pattern::kMerge:
      return "merge";
  }
  return "unknown";
}

std::vector<Run> PlanRuns(uint64_t block_count, Pattern pattern, uint32_t run_blocks,
                          uint64_t seed) {
  const uint32_t length = pattern == Pattern::kRandom ? 1 : std::max<uint32_t>(run_blocks, 1);
  std::vector<Run> runs;
  runs.reserve(block_count / length + 1);
  for (uint64_t first = 0; first < block_count; first += length) {
    runs.push_back({first, static_cast<uint32_t>(std::min<uint64_t>(length, block_count - first))});
  }
  if (pattern != Pattern::kSequential) {
    std::mt19937_64 random(seed);
    std::shuffle(runs.begin(), runs.end(), random);
  }
  return runs;
}

}  // namespace fscanary::verify
