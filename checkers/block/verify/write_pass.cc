#include "checkers/block/verify/write_pass.h"

#include "checkers/block/classify/classifier.h"
#include "checkers/block/format/format.h"
#include "checkers/block/verify/block_pipeline.h"
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

namespace {

// Reads back each block whose write failed, once the target is synced, and
// settles its record by what it holds (block::ResolveFailedWrite).
absl::Status ResolveFailedWrites(io::Engine& engine, const target::ScratchTarget& target,
                                 const PipelineTarget& pipeline_target,
                                 state::BlockStateFile& state, std::span<const uint64_t> failed,
                                 WriteResult& result) {
  const state::TargetGeometry geometry = target.geometry();
  for (const uint64_t block : failed) {
    const uint64_t offset = geometry.data_start + block * geometry.block_size;
    ASSIGN_OR_RETURN(const int64_t io_result, ReadOneBlock(engine, pipeline_target, block));
    if (io_result != static_cast<int64_t>(geometry.block_size)) {
      result.failures.push_back(
          FailureOf(IoOperation::kRead, target.path, offset, geometry.block_size, io_result));
      continue;
    }
    const state::BlockRecord record = state.Get(block);
    const block::Expectation expectation{.target_id = geometry.target_id,
                                         .offset = offset,
                                         .durable_generation = record.durable_generation,
                                         .inflight_generation = record.inflight_generation,
                                         .first_write = record.first_write};
    switch (block::ResolveFailedWrite(expectation, engine.Buffer(0).first(geometry.block_size))) {
      case block::FailedWrite::kLanded:
        state.MarkDurable(block, result.generation);
        ++result.failed_writes_landed;
        break;
      case block::FailedWrite::kNotWritten:
        state.ClearInFlight(block);
        ++result.failed_writes_cleared;
        break;
      case block::FailedWrite::kUndecided:
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace

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
  // Flushes the state; false (and the failure recorded) if it could not be.
  auto flush_state = [&] {
    const state::BlockStateFile::ByteRange pending = state.PendingBytes();
    const absl::Status flushed = state.Flush();
    if (flushed.ok()) return true;
    result.failures.push_back(
        FailureOf(IoOperation::kStateWrite, state.path(), pending.offset, pending.length, flushed));
    result.stopped = true;
    return false;
  };
  std::vector<uint64_t> written;
  std::vector<uint64_t> failed;

  for (std::span<const Run> batch : Batches(runs, std::max<uint32_t>(options.batch_blocks, 1))) {
    // The in-flight marks must be durable before any data write is issued, so
    // a crash never leaves a block newer than its state can explain.
    uint64_t batch_begin = ~uint64_t{0}, batch_end = 0;
    for (const Run& run : batch) {
      batch_begin = std::min(batch_begin, run.first_block);
      batch_end = std::max(batch_end, run.first_block + run.count);
      for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
        state.MarkInFlight(block, result.generation);
      }
    }
    if (!flush_state()) return result;

    written.clear();
    failed.clear();
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
            failed.push_back(block);
            result.failures.push_back(FailureOf(IoOperation::kWrite, target.path,
                                                geometry.data_start + block * geometry.block_size,
                                                geometry.block_size, io_result));
          }
          if (options.pass.progress) {
            options.pass.progress(written.size() + result.blocks_written + failed.size(),
                                  total_blocks);
          }
        }));
    // Acknowledged only once durable: each write itself (RWF_DSYNC), or the
    // sync after the batch. A failed write is read back only after a sync,
    // so what it left is as durable as the rest.
    auto acknowledge = [&] {
      for (const uint64_t block : written) state.MarkDurable(block, result.generation);
      result.blocks_written += written.size();
    };
    if (dsync) acknowledge();
    if (!dsync || !failed.empty()) {
      ASSIGN_OR_RETURN(const int64_t synced, DataSyncTarget(engine, pipeline_target));
      if (synced != 0) {
        result.failures.push_back(FailureOf(IoOperation::kDataSync, target.path,
                                            geometry.data_start + batch_begin * geometry.block_size,
                                            (batch_end - batch_begin) * geometry.block_size,
                                            synced));
        // No sync covers the batch: its blocks stay in flight, either
        // generation forgiven, until they are written again. Read back now,
        // a block holding the new generation may yet be only in a volatile
        // cache: marked durable, a power cut would make it a lost write on a
        // device that reported its error.
        result.stopped = true;
        break;
      }
    }
    if (!dsync) acknowledge();
    // What the pass found stays reported when the read-back cannot run.
    if (absl::Status resolved =
            ResolveFailedWrites(engine, target, pipeline_target, state, failed, result);
        !resolved.ok()) {
      result.failures.push_back(FailureOf(IoOperation::kRead, target.path, 0, 0, resolved));
      result.stopped = true;
      break;
    }
  }
  flush_state();
  result.bytes_written = result.blocks_written * geometry.block_size;
  return result;
}

}  // namespace fscanary::verify
