#pragma once
// Reads what the crash tests watch while a writer runs: a target's state file
// (docs/FORMAT.md, "State file": a 4096-byte header, then per block a u64
// durable generation, a u32 in-flight delta (in version 2, bit 31 a flag)
// and a u32 check, little-endian)
// and the generation stamped on a block of the target. Written from the spec,
// not with the agent's code, and without checking checksums: a watcher only.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::testing {

struct StateRecord {
  uint64_t durable_generation = 0;
  // 0: none; ~0: unknown (too far above the durable one to record).
  uint64_t inflight_generation = 0;
};

// The state file of the one target a state directory holds; empty while none.
std::string FindStateFile(const std::string& state_dir);

absl::StatusOr<std::vector<StateRecord>> ReadStateRecords(const std::string& path);

// The highest generation any record mentions (0 for none): a new write pass
// writes the one above it.
uint64_t MaxGeneration(const std::vector<StateRecord>& records);

// The generation in the stamp of the first sector of the block at `offset`;
// 0 when the sector carries no fscanary stamp.
absl::StatusOr<uint64_t> StampedGeneration(const std::string& target, uint64_t offset);

}  // namespace fscanary::testing
