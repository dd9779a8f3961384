#pragma once
// The page-cache checker of one block-format scratch file: write rounds go
// through the page cache (small adjacent blocks, one buffered pwrite each, or
// every Nth run through a shared mapping) while another thread syncs the same
// file; the written blocks, and later random cold ones, are read back twice,
// through the page cache and O_DIRECT, and both reads must agree with each
// other and with the durable state. Shares its target, state and engine with
// the block checker, so the two never reuse a generation.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/classify/classifier.h"
#include "checkers/block/shared_target.h"
#include "checkers/block/verify/pattern.h"
#include "checkers/block/verify/verify_pass.h"
#include "checkers/checker/checker.h"
#include "io/posix.h"
#include "io/rate_limiter.h"

namespace fscanary::pagecache {

struct PageCacheOptions {
  // Adjacent blocks per run. Each block is its own pwrite, so it is the
  // kernel's writeback that merges them into larger requests (the merge
  // pressure under which the 2018 blk-mq corruption appeared).
  uint32_t run_blocks = 8;
  // Blocks given a new generation per write round.
  uint32_t write_blocks = 64;
  // A write round (written, synced, then read back both ways) starts this
  // often (ns of the monotonic clock Step() is given).
  uint64_t write_interval_ns = 600'000'000'000;
  // Durable blocks picked at random and read back both ways per cold read
  // (blocks never written are skipped), and how often.
  uint32_t cold_read_blocks = 256;
  uint64_t cold_read_interval_ns = 3'600'000'000'000;
  // Every mmap_every-th run is written through a MAP_SHARED mapping (stores,
  // then msync(MS_SYNC)) instead of pwrite; 0: never. Only runs whose range
  // starts and ends on page boundaries are mapped (block sizes that are
  // multiples of the page size), so no byte outside the run is written back;
  // others are written with pwrite.
  uint32_t mmap_every = 4;
  // Where the evidence of findings is saved; empty: keep none.
  std::string evidence_dir;
};

// Not thread-safe (checker::Checker); it runs one thread of its own during a
// write round (the concurrent syncs) and joins it before the round returns.
class PageCacheChecker final : public checker::Checker {
 public:
  // Opens the checker's own buffered descriptor on the target's path
  // (O_RDWR | O_NOFOLLOW, never created: the shared target exists).
  // InvalidArgument, naming the path, if the target is a block device or not
  // a regular file; Aborted if the path no longer names the shared target's
  // file; the open's error otherwise (ELOOP for a symlink). `limiter` may be
  // null (no limit); it must outlive the checker.
  static absl::StatusOr<std::unique_ptr<PageCacheChecker>> Create(
      std::shared_ptr<blockcheck::SharedTarget> target, PageCacheOptions options,
      io::RateLimiter* limiter);

  std::string_view name() const override { return "page_cache"; }
  checker::TargetDescription Describe() const override;
  uint64_t next_due_ns() const override;
  // A write round when due (then its blocks read back at once), and a cold
  // read when due. A round whose data could not be made durable (a failed
  // write or sync) is counted in io_errors and logged, its blocks left in
  // flight and never reported; only state and engine failures are errors.
  absl::StatusOr<std::vector<checker::Finding>> Step(uint64_t now_ns) override;
  // blocks_written/bytes_written: blocks acknowledged durable.
  // blocks_verified/bytes_verified: each block once per verification, though
  // it is read twice (the direct read's count). read_latency: the direct
  // reads. io_errors: failed writes and syncs, and blocks either read failed.
  checker::Activity TakeActivity() override;

 private:
  PageCacheChecker(std::shared_ptr<blockcheck::SharedTarget> target, PageCacheOptions options,
                   io::RateLimiter* limiter, io::UniqueFd fd);

  // Writes one round; returns the runs of blocks now durable (none if the
  // round could not be made durable).
  absl::StatusOr<std::vector<verify::Run>> WriteRound();
  enum class MappedWrite : uint8_t {
    kWritten,
    // Not written through the mapping (nothing stored, or a store that
    // faulted): the caller writes the whole run with pwrite.
    kNotMapped,
    // msync failed: the round cannot be made durable.
    kSyncFailed,
  };
  MappedWrite WriteRunMapped(const verify::Run& run, uint64_t generation);
  bool Mappable(const verify::Run& run) const;
  // Reads the durable blocks of `runs` both ways and compares them.
  absl::StatusOr<std::vector<checker::Finding>> VerifyBothWays(std::span<const verify::Run> runs);
  // Reads one block both ways again, its pages dropped first; true if the two
  // reads still differ.
  absl::StatusOr<bool> StillMismatched(uint64_t block);
  struct Read {
    block::Verdict verdict;
    std::vector<std::byte> bytes;
  };
  // One O_DIRECT read of `block` through the shared engine (idle).
  absl::StatusOr<Read> ReadDirect(uint64_t block);
  block::Expectation ExpectationOf(uint64_t block) const;
  std::string SaveBufferedEvidence(const verify::Finding& finding,
                                   std::span<const std::byte> found);
  void Throttle(uint64_t blocks);
  // A failed operation of the round: counted, logged, and returned as an
  // io_error finding with the step's others.
  void Failed(verify::IoFailure failure);
  // Flushes the shared state; false (a failure recorded) if it could not be.
  bool FlushState();

  std::shared_ptr<blockcheck::SharedTarget> target_;
  PageCacheOptions options_;
  io::RateLimiter* limiter_;
  // Buffered (no O_DIRECT): every write and the buffered reads go through the
  // page cache.
  io::UniqueFd fd_;
  std::mt19937_64 random_;
  // Runs written so far, for mmap_every.
  uint64_t runs_written_ = 0;
  bool mapping_unsupported_ = false;
  uint64_t next_write_ns_ = 0;
  uint64_t next_cold_read_ns_ = 0;
  checker::Activity activity_;
  // This step's failures so far (Failed), handed over by Step().
  std::vector<verify::IoFailure> failures_;
};

}  // namespace fscanary::pagecache
