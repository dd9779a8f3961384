#pragma once
// Drives an engine over a list of runs of blocks: keeps the queue full, queues
// each run's blocks together, and stays within the rate limit.

#include <cstdint>
#include <functional>
#include <span>

#include "absl/status/status.h"
#include "checkers/block/verify/pattern.h"
#include "io/engine.h"
#include "io/rate_limiter.h"

namespace fscanary::verify {

struct PipelineTarget {
  int fd = -1;
  uint64_t data_start = 0;
  uint32_t block_size = 0;
};

// Fills the buffer of a block about to be written (unused for reads).
using PrepareBlock = std::function<void(uint64_t block, std::span<std::byte> buffer)>;
// Receives each block with its buffer, the engine's result (bytes or -errno)
// and the time from queueing the request to its completion.
using BlockDone = std::function<void(uint64_t block, std::span<const std::byte> buffer,
                                     int64_t result, uint64_t latency_ns)>;

struct PipelineOptions {
  io::IoOp op = io::IoOp::kRead;
  bool dsync = false;
  // May be null: no limit.
  io::RateLimiter* limiter = nullptr;
};

// Returns an error only if the engine itself failed; per-block errors reach
// `done` as negative results.
absl::Status RunBlocks(io::Engine& engine, const PipelineTarget& target, std::span<const Run> runs,
                       const PipelineOptions& options, const PrepareBlock& prepare,
                       const BlockDone& done);

// Reads one block synchronously into the engine's slot 0 (the pipeline must be
// idle) and returns the engine's result; the data is in engine.Buffer(0).
absl::StatusOr<int64_t> ReadOneBlock(io::Engine& engine, const PipelineTarget& target,
                                     uint64_t block);

// fdatasync of the target through the engine (the pipeline must be idle):
// 0, or the negative errno the sync failed with.
absl::StatusOr<int64_t> DataSyncTarget(io::Engine& engine, const PipelineTarget& target);

}  // namespace fscanary::verify
