#pragma once
// A small block-format scratch file and checker options for the page-cache
// checker's tests: with them Step(0) writes every block once and reads every
// block back, and Step(kColdReadAt * n) only cold-reads every durable block.

#include <fcntl.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "checkers/block/shared_target.h"
#include "checkers/pagecache/page_cache_checker.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "io/aligned_buffer.h"
#include "io/posix.h"
#include "tests/status_assertions.h"

namespace fscanary::pagecache::testing {

inline constexpr uint32_t kBlockSize = 4096;
inline constexpr uint32_t kBlocks = 64;
inline constexpr uint64_t kHour = 3'600'000'000'000;
// A cold read is due at every multiple of it; the second write round long after.
inline constexpr uint64_t kColdReadAt = kHour;

inline PageCacheOptions EveryBlockOptions() {
  return {.run_blocks = 8,
          .write_blocks = kBlocks,
          .write_interval_ns = 1000 * kHour,
          .cold_read_blocks = kBlocks,
          .cold_read_interval_ns = kColdReadAt,
          .mmap_every = 4};
}

// Labels (if new) and opens a target of kBlocks blocks at `path`.
inline absl::StatusOr<std::shared_ptr<blockcheck::SharedTarget>> OpenTarget(
    const std::string& path, const std::string& state_dir) {
  return blockcheck::OpenSharedTarget(
      {.name = "scratch",
       .target = {.path = path,
                  .state_dir = state_dir,
                  .size = uint64_t{kBlockSize} + uint64_t{kBlocks} * kBlockSize},
       .queue_depth = 8});
}

inline uint64_t OffsetOf(const blockcheck::SharedTarget& target, uint64_t block) {
  const target::Label& label = target.writable.target.label;
  return label.data_start + block * label.block_size;
}

// Overwrites bytes [at, at + length) of the block at `offset` with 0xA5 on the
// device, behind the page cache (O_DIRECT, which also invalidates the cached
// pages of the range).
inline absl::Status CorruptBehindTheCache(const std::string& path, uint64_t offset, size_t at,
                                          size_t length) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_RDWR | O_DIRECT));
  io::AlignedBuffer block(kBlockSize);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd.get(), block.span(), offset, path));
  if (got != kBlockSize) return absl::InternalError("short read of " + path);
  std::fill_n(block.data() + at, length, std::byte{0xA5});
  RETURN_IF_ERROR(io::WriteAll(fd.get(), block.span(), offset, path));
  return io::DataSync(fd.get(), path);
}

}  // namespace fscanary::pagecache::testing
