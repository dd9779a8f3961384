// The write round of the page-cache checker: blocks through the page cache
// (buffered pwrite or a shared mapping) under concurrent syncs, acknowledged
// only once durable.

#include <algorithm>
#include <string>
#include <unordered_set>
#include <vector>

#include "checkers/block/block_checker.h"
#include "checkers/block/format/format.h"
#include "checkers/pagecache/concurrent_syncer.h"
#include "checkers/pagecache/filter_runs.h"
#include "checkers/pagecache/page_cache_checker.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::pagecache {
namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

absl::StatusOr<std::vector<verify::Run>> PageCacheChecker::WriteRound() {
  target::WritableTarget& writable = target_->writable;
  state::BlockStateFile& state = writable.state;
  const state::TargetGeometry geometry = writable.target.geometry();
  const std::string& path = writable.target.path;
  const std::vector<verify::Run> runs = blockcheck::RandomRuns(
      geometry.block_count, options_.write_blocks, options_.run_blocks, random_);
  if (runs.empty()) return runs;

  // As verify::WriteRuns: above every generation the shared state has seen,
  // so the block checker's and this checker's writes never share one.
  const uint64_t generation = state.max_generation() + 1;
  // The in-flight marks must be durable before any data reaches even the page
  // cache (writeback may start at once), so a crash never leaves a block
  // newer than its state can explain.
  uint64_t round_begin = ~uint64_t{0}, round_end = 0;
  for (const verify::Run& run : runs) {
    round_begin = std::min(round_begin, run.first_block);
    round_end = std::max(round_end, run.first_block + run.count);
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      state.MarkInFlight(block, generation);
    }
  }
  // The bytes of the target the round's syncs cover.
  const uint64_t round_offset = geometry.data_start + round_begin * geometry.block_size;
  const uint64_t round_length = (round_end - round_begin) * geometry.block_size;
  if (!FlushState()) return std::vector<verify::Run>{};

  std::unordered_set<uint64_t> failed;
  bool round_failed = false;
  std::vector<std::byte> buffer(geometry.block_size);
  ConcurrentSyncer syncer(fd_.get(), path);
  for (const verify::Run& run : runs) {
    Throttle(run.count);
    const bool mapped_turn = options_.mmap_every != 0 && ++runs_written_ % options_.mmap_every == 0;
    if (mapped_turn && Mappable(run)) {
      const MappedWrite outcome = WriteRunMapped(run, generation);
      if (outcome != MappedWrite::kNotMapped) {
        round_failed |= outcome == MappedWrite::kSyncFailed;
        syncer.WriteIssued();
        continue;
      }
    }
    // One pwrite per block, so adjacent small writes meet in the page cache
    // and are merged by writeback, not by us.
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      const uint64_t offset = geometry.data_start + block * geometry.block_size;
      block::EncodeBlock(
          {.target_id = geometry.target_id, .offset = offset, .generation = generation},
          io::WallClockNanos(), buffer);
      if (absl::Status wrote = io::WriteAll(fd_.get(), buffer, offset, path); !wrote.ok()) {
        // It stays in flight.
        failed.insert(block);
        Failed(verify::FailureOf(verify::IoOperation::kWrite, path, offset, geometry.block_size,
                                 wrote));
      }
      syncer.WriteIssued();
    }
  }
  const ConcurrentSyncer::Outcome concurrent = syncer.Finish();
  if (!concurrent.first_error.ok()) {
    round_failed = true;
    Failed(verify::FailureOf(verify::IoOperation::kDataSync, path, round_offset, round_length,
                             concurrent.first_error));
  }
  // Acknowledged only once durable: the concurrent syncs may all have run
  // before the last write.
  if (absl::Status synced = io::DataSync(fd_.get(), path); !synced.ok()) {
    round_failed = true;
    Failed(verify::FailureOf(verify::IoOperation::kDataSync, path, round_offset, round_length,
                             synced));
  }
  if (round_failed) {
    spdlog::warn(
        "target {}: page_cache generation {} could not be made durable; its blocks stay in "
        "flight, neither verified nor reported",
        target_->name, generation);
    return std::vector<verify::Run>{};
  }

  const std::vector<verify::Run> written =
      FilterRuns(runs, [&](uint64_t block) { return !failed.contains(block); });
  for (const verify::Run& run : written) {
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      state.MarkDurable(block, generation);
      ++activity_.blocks_written;
      activity_.bytes_written += geometry.block_size;
    }
  }
  FlushState();
  return written;
}

bool PageCacheChecker::FlushState() {
  state::BlockStateFile& state = target_->writable.state;
  const state::BlockStateFile::ByteRange pending = state.PendingBytes();
  const absl::Status flushed = state.Flush();
  if (flushed.ok()) return true;
  Failed(verify::FailureOf(verify::IoOperation::kStateWrite, state.path(), pending.offset,
                           pending.length, flushed));
  return false;
}

bool PageCacheChecker::Mappable(const verify::Run& run) const {
  const state::TargetGeometry geometry = target_->writable.target.geometry();
  const uint64_t page = io::PageSize();
  return !mapping_unsupported_ &&
         (geometry.data_start + run.first_block * geometry.block_size) % page == 0 &&
         (uint64_t{run.count} * geometry.block_size) % page == 0;
}

PageCacheChecker::MappedWrite PageCacheChecker::WriteRunMapped(const verify::Run& run,
                                                               uint64_t generation) {
  const state::TargetGeometry geometry = target_->writable.target.geometry();
  const std::string& path = target_->writable.target.path;
  const uint64_t offset = geometry.data_start + run.first_block * geometry.block_size;
  const size_t length = size_t{run.count} * geometry.block_size;
  // A store past the end of the file would be SIGBUS: map only what it holds.
  absl::StatusOr<io::FileInfo> info = io::Inspect(fd_.get(), path);
  if (!info.ok() || info->size < offset + length) {
    spdlog::warn("target {}: {} is shorter than its label says; run at block {} not mapped",
                 target_->name, path, run.first_block);
    return MappedWrite::kNotMapped;
  }
  absl::StatusOr<io::SharedMapping> mapping =
      io::SharedMapping::Map(fd_.get(), offset, length, path);
  if (!mapping.ok()) {
    spdlog::warn("target {}: {}; writing the run with pwrite", target_->name,
                 Message(mapping.status()));
    return MappedWrite::kNotMapped;
  }
  // A store to a page that cannot be read in is SIGBUS; fault them in first,
  // where a failure is an error.
  if (absl::Status prefault = mapping->PrefaultWritable(); !prefault.ok()) {
    if (absl::IsUnimplemented(prefault)) {
      mapping_unsupported_ = true;
      spdlog::info("target {}: {}; page_cache writes use pwrite only", target_->name,
                   Message(prefault));
    } else {
      // The run is written with pwrite instead.
      Failed(verify::FailureOf(verify::IoOperation::kWrite, path, offset, length, prefault));
    }
    return MappedWrite::kNotMapped;
  }
  // Encoded aside and copied in with one guarded store: a page that faults
  // even so (reclaimed after writeback, then unreadable; an extent btrfs
  // cannot allocate) is an error here, not the agent's death.
  std::vector<std::byte> encoded(length);
  for (uint32_t i = 0; i < run.count; ++i) {
    const uint64_t block_offset = offset + uint64_t{i} * geometry.block_size;
    block::EncodeBlock(
        {.target_id = geometry.target_id, .offset = block_offset, .generation = generation},
        io::WallClockNanos(),
        std::span(encoded).subspan(size_t{i} * geometry.block_size, geometry.block_size));
  }
  if (absl::Status stored = mapping->Store(0, encoded); !stored.ok()) {
    // Any part of the run may have been stored, down to half a sector, which
    // a later read would take for damage: the run is written again whole,
    // with pwrite (a whole-block overwrite needs nothing read in).
    Failed(verify::FailureOf(verify::IoOperation::kWrite, path, offset, length, stored));
    return MappedWrite::kNotMapped;
  }
  if (absl::Status synced = mapping->Sync(); !synced.ok()) {
    Failed(verify::FailureOf(verify::IoOperation::kDataSync, path, offset, length, synced));
    return MappedWrite::kSyncFailed;
  }
  return MappedWrite::kWritten;
}

}  // namespace fscanary::pagecache
