#pragma once
// Internal to the page-cache checker: picking blocks out of runs while keeping
// the adjacent ones together (so they are still submitted, and merged, together).

#include <cstdint>
#include <span>
#include <vector>

#include "checkers/block/verify/pattern.h"

namespace fscanary::pagecache {

// The blocks of `runs` for which `keep` is true, still grouped in runs.
template <typename Keep>
std::vector<verify::Run> FilterRuns(std::span<const verify::Run> runs, const Keep& keep) {
  std::vector<verify::Run> kept;
  for (const verify::Run& run : runs) {
    verify::Run current{.first_block = run.first_block, .count = 0};
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      if (keep(block)) {
        if (current.count == 0) current.first_block = block;
        ++current.count;
        continue;
      }
      if (current.count > 0) kept.push_back(current);
      current.count = 0;
    }
    if (current.count > 0) kept.push_back(current);
  }
  return kept;
}

}  // namespace fscanary::pagecache
