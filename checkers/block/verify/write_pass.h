#pragma once
// One write pass over a target: every block gets a new generation, is made
// durable, and only then is recorded as such.

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/state/block_state.h"
#include "checkers/block/target/scratch_target.h"
#include "checkers/block/verify/io_failure.h"
#include "checkers/block/verify/pattern.h"
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

struct WriteResult {
  uint64_t generation = 0;
  uint64_t blocks_written = 0;
  uint64_t bytes_written = 0;
  // Every operation that failed, in order: a block's write (kWrite), the
  // read-back of such a block (kRead), the sync of a batch (kDataSync), the
  // state's records (kStateWrite).
  std::vector<IoFailure> failures;
  // The pass stopped at a failed sync or state write (the last failure):
  // the blocks written since the last good sync stay in flight.
  bool stopped = false;
  // Blocks whose write failed, read back once the target was synced: their
  // data whole (now durable), or nothing of it (no longer in flight). Any
  // other stays in flight: both generations forgiven, the rest classified.
  uint64_t failed_writes_landed = 0;
  uint64_t failed_writes_cleared = 0;
};

// Writes every block of the target in the order of options.pass.pattern. A
// failed write, sync or state write is a failure of the result (a sync or
// state failure stops the pass); what was made durable before it is recorded.
// An error means the engine itself failed.
absl::StatusOr<WriteResult> RunWritePass(io::Engine& engine, const target::ScratchTarget& target,
                                         state::BlockStateFile& state, const WriteOptions& options);

// Writes exactly the blocks of `runs` with one new generation (the daemon's
// partial passes); same durability protocol.
absl::StatusOr<WriteResult> WriteRuns(io::Engine& engine, const target::ScratchTarget& target,
                                      state::BlockStateFile& state, std::span<const Run> runs,
                                      const WriteOptions& options);

}  // namespace fscanary::verify
