#include "checkers/verify/write_pass.h"

#include "checkers/block/format.h"
#include "checkers/verify/block_pipeline.h"
#include "common/status.h"
#include "io/posix.h"

namespace fscanary::verify {
namespace {

// Splits runs into batches of about `batch_blocks` blocks (runs are not split).
std::vector<std::span<const Run>> Batches(std::span<const Run> runs, uint32_t batch_blocks) {
  std::vector<std::span<const Run>> batches;
  size_t begin = 0;
  uint64_t blocks = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    blocks += runs[i].count;
    if (blocks >= batch_blocks || i + 1 == runs.size()) {
      batches.emplace_back(runs.data() + begin, i + 1 - begin);
      begin = i + 1;
      blocks = 0;
    }
  }
  return batches;
}

}  // namespace

absl::StatusOr<WriteResult> RunWritePass(io::Engine& engine, const target::ScratchTarget& target,
                                         state::BlockStateFile& state,
                                         const WriteOptions& options) {
  const std::vector<Run> runs = PlanRuns(target.geometry().block_count, options.pass.pattern,
                                         options.pass.run_blocks, options.pass.seed);
  return WriteRuns(engine, target, state, runs, options);
}

absl::StatusOr<WriteResult> WriteRuns(io::Engine& engine, const target::ScratchTarget& target,
                                      state::BlockStateFile& state, std::span<const Run> runs,
                                      const WriteOptions& options) {
  const state::TargetGeometry geometry = target.geometry();
  WriteResult result{.generation = state.max_generation() + 1};
  uint64_t total_blocks = 0;
  for (const Run& run : runs) total_blocks += run.count;
  const PipelineTarget pipeline_target{
      .fd = target.fd.get(), .data_start = geometry.data_start, .block_size = geometry.block_size};
  const bool dsync = options.durability == Durability::kDsync;
  std::vector<uint64_t> written;

  for (std::span<const Run> batch : Batches(runs, std::max<uint32_t>(options.batch_blocks, 1))) {
    // The in-flight marks must be durable before any data write is issued, so
    // a crash never leaves a block newer than its state can explain.
    for (const Run& run : batch) {
      for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
        state.MarkInFlight(block, result.generation);
      }
    }
    RETURN_IF_ERROR(state.Flush());

    written.clear();
    RETURN_IF_ERROR(RunBlocks(
        engine, pipeline_target, batch,
        {.op = io::IoOp::kWrite, .dsync = dsync, .limiter = options.pass.limiter},
        [&](uint64_t block, std::span<std::byte> buffer) {
          block::EncodeBlock({.target_id = geometry.target_id,
                              .offset = geometry.data_start + block * geometry.block_size,
                              .generation = result.generation},
                             io::WallClockNanos(), buffer);
        },
        [&](uint64_t block, std::span<const std::byte>, int64_t io_result, uint64_t) {
          if (io_result == static_cast<int64_t>(geometry.block_size)) {
            written.push_back(block);
          } else {
            result.failures.push_back(
                {.offset = geometry.data_start + block * geometry.block_size,
                 .error_number = io_result < 0 ? static_cast<int>(-io_result) : EIO});
          }
          if (options.pass.progress) {
            options.pass.progress(written.size() + result.blocks_written + result.failures.size(),
                                  total_blocks);
          }
        }));
    // Acknowledged only once durable.
    if (!dsync) RETURN_IF_ERROR(io::DataSync(target.fd.get(), target.path));
    for (const uint64_t block : written) state.MarkDurable(block, result.generation);
    result.blocks_written += written.size();
  }
  RETURN_IF_ERROR(state.Flush());
  result.bytes_written = result.blocks_written * geometry.block_size;
  return result;
}

}  // namespace fscanary::verify
