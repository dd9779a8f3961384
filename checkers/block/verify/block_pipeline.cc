#include "checkers/block/verify/block_pipeline.h"

#include <algorithm>
#include <vector>

#include "common/status.h"
#include "io/posix.h"

namespace fscanary::verify {

absl::Status RunBlocks(io::Engine& engine, const PipelineTarget& target, std::span<const Run> runs,
                       const PipelineOptions& options, const PrepareBlock& prepare,
                       const BlockDone& done) {
  const uint32_t depth = engine.QueueDepth();
  std::vector<uint32_t> free_slots(depth);
  for (uint32_t i = 0; i < depth; ++i) free_slots[i] = depth - 1 - i;
  std::vector<uint64_t> slot_block(depth);
  std::vector<uint64_t> slot_queued_ns(depth);
  std::vector<io::IoCompletion> completions;

  auto reap = [&](size_t min_completions) -> absl::Status {
    completions.clear();
    RETURN_IF_ERROR(engine.Reap(min_completions, completions));
    for (const io::IoCompletion& completion : completions) {
      const auto slot = static_cast<uint32_t>(completion.tag);
      done(slot_block[slot], engine.Buffer(slot).first(target.block_size), completion.result,
           io::MonotonicNanos() - slot_queued_ns[slot]);
      free_slots.push_back(slot);
    }
    return absl::OkStatus();
  };

  for (const Run& run : runs) {
    for (uint64_t first = run.first_block; first < run.first_block + run.count;) {
      const auto chunk =
          static_cast<uint32_t>(std::min<uint64_t>(depth, run.first_block + run.count - first));
      if (free_slots.size() < chunk) RETURN_IF_ERROR(reap(chunk - free_slots.size()));
      if (options.limiter != nullptr) {
        io::SleepNanos(options.limiter->Reserve(uint64_t{chunk} * target.block_size, chunk,
                                                io::MonotonicNanos()));
      }
      for (uint64_t block = first; block < first + chunk; ++block) {
        const uint32_t slot = free_slots.back();
        free_slots.pop_back();
        slot_block[slot] = block;
        if (options.op == io::IoOp::kWrite) {
          prepare(block, engine.Buffer(slot).first(target.block_size));
        }
        slot_queued_ns[slot] = io::MonotonicNanos();
        RETURN_IF_ERROR(engine.Submit({.op = options.op,
                                       .fd = target.fd,
                                       .offset = target.data_start + block * target.block_size,
                                       .length = target.block_size,
                                       .buffer = slot,
                                       .dsync = options.dsync,
                                       .tag = slot}));
      }
      // Hand the run to the kernel in one submission, without waiting.
      RETURN_IF_ERROR(reap(0));
      first += chunk;
    }
  }
  while (free_slots.size() < depth) RETURN_IF_ERROR(reap(depth - free_slots.size()));
  return absl::OkStatus();
}

namespace {

absl::StatusOr<int64_t> RunOne(io::Engine& engine, const io::IoRequest& request) {
  RETURN_IF_ERROR(engine.Submit(request));
  std::vector<io::IoCompletion> completions;
  RETURN_IF_ERROR(engine.Reap(1, completions));
  if (completions.size() != 1) return absl::InternalError("engine lost a request");
  return completions[0].result;
}

}  // namespace

absl::StatusOr<int64_t> ReadOneBlock(io::Engine& engine, const PipelineTarget& target,
                                     uint64_t block) {
  return RunOne(engine, {.op = io::IoOp::kRead,
                         .fd = target.fd,
                         .offset = target.data_start + block * target.block_size,
                         .length = target.block_size,
                         .buffer = 0,
                         .tag = 0});
}

absl::StatusOr<int64_t> DataSyncTarget(io::Engine& engine, const PipelineTarget& target) {
  return RunOne(engine, {.op = io::IoOp::kDataSync, .fd = target.fd});
}

}  // namespace fscanary::verify
