#pragma once
// One write pass over a target: every block gets a new generation, is made
// durable, and only then is recorded as such.

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/state/block_state.h"
#include "checkers/target/scratch_target.h"
#include "checkers/verify/pattern.h"
#include "io/engine.h"
#include "io/rate_limiter.h"

namespace fscanary::verify {

enum class Durability : uint8_t {
  kBatchSync,  // write a batch, then fdatasync the target (a cache flush on devices)
  kDsync,      // every write with RWF_DSYNC (FUA where the device has it)
};

using Progress = std::function<void(uint64_t blocks_done, uint64_t blocks_total)>;

struct PassOptions {
  Pattern pattern = Pattern::kSequential;
  // Adjacent blocks per run for the sequential and merge patterns.
  uint32_t run_blocks = 8;
  uint64_t seed = 0;
  io::RateLimiter* limiter = nullptr;
  Progress progress;
};

struct WriteOptions {
  PassOptions pass;
  Durability durability = Durability::kBatchSync;
  // Blocks whose in-flight marks are made durable together before their data
  // is written: one state fdatasync per batch.
  uint32_t batch_blocks = 4096;
};

struct WriteFailure {
  uint64_t offset = 0;  // bytes from the start of the target
  int error_number = 0;
};

struct WriteResult {
  uint64_t generation = 0;
  uint64_t blocks_written = 0;
  uint64_t bytes_written = 0;
  // Blocks whose write failed: they stay marked in flight, never reported as
  // corrupt for holding either generation.
  std::vector<WriteFailure> failures;
};

// Writes every block of the target in the order of options.pass.pattern. An
// error means the pass stopped (state or sync failure); what was made durable
// before that is recorded.
absl::StatusOr<WriteResult> RunWritePass(io::Engine& engine, const target::ScratchTarget& target,
                                         state::BlockStateFile& state, const WriteOptions& options);

// Writes exactly the blocks of `runs` with one new generation (the daemon's
// partial passes); same durability protocol.
absl::StatusOr<WriteResult> WriteRuns(io::Engine& engine, const target::ScratchTarget& target,
                                      state::BlockStateFile& state, std::span<const Run> runs,
                                      const WriteOptions& options);

}  // namespace fscanary::verify
