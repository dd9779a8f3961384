#pragma once
// The block checker of one scratch target as the daemon runs it: write rounds
// (a new generation for some blocks, read back at once), cold reads of blocks
// written earlier, and a scrub that walks the whole target once per interval,
// each in small steps when due, so the agent stays within its budget.

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/target/scratch_target.h"
#include "checkers/verify/verify_pass.h"
#include "checkers/verify/write_pass.h"
#include "io/engine.h"
#include "io/rate_limiter.h"

namespace fscanary::daemon {

struct BlockTargetOptions {
  std::string name;
  target::WriteTargetOptions target;
  io::EngineKind engine = io::EngineKind::kAuto;
  uint32_t queue_depth = 32;
  verify::Pattern pattern = verify::Pattern::kMerge;
  uint32_t run_blocks = 8;
  verify::Durability durability = verify::Durability::kBatchSync;
  // A write round (new generation for `write_blocks`, read back at once)
  // starts this often; `cold_read_blocks` written earlier are read back every
  // cold_read_interval; the scrub verifies every block once per scrub_interval.
  uint64_t write_interval_ns = 600'000'000'000;
  uint64_t cold_read_interval_ns = 3'600'000'000'000;
  uint64_t scrub_interval_ns = 86'400'000'000'000;
  uint32_t write_blocks = 64;
  uint32_t cold_read_blocks = 256;
  std::string evidence_dir;
};

// Counters of what one target did since the last report.
struct TargetActivity {
  uint64_t blocks_written = 0;
  uint64_t bytes_written = 0;
  uint64_t blocks_verified = 0;
  uint64_t bytes_verified = 0;
  uint64_t io_errors = 0;
  uint64_t findings = 0;
  verify::LatencyHistogram read_latency;
  uint64_t scrubs_completed = 0;
};

// Not thread-safe: the daemon's I/O thread owns it.
class BlockTargetRunner {
 public:
  // Opens (labels, if new) the target and its state; refuses what the guard refuses.
  static absl::StatusOr<std::unique_ptr<BlockTargetRunner>> Open(const BlockTargetOptions& options,
                                                                 io::RateLimiter* limiter);

  // Does whatever is due at `now_ns` (monotonic): a write round, a cold read,
  // a scrub step. An error means the target could not be worked on.
  absl::StatusOr<std::vector<verify::Finding>> Step(uint64_t now_ns);
  // When the next step is due (monotonic ns).
  uint64_t next_due_ns() const;

  const BlockTargetOptions& options() const { return options_; }
  const target::ScratchTarget& target() const { return writable_.target; }
  std::string_view engine_name() const { return engine_->Name(); }
  // Takes the counters accumulated since the last call.
  TargetActivity TakeActivity();

 private:
  BlockTargetRunner(BlockTargetOptions options, target::WritableTarget writable,
                    std::unique_ptr<io::Engine> engine, io::RateLimiter* limiter);
  std::vector<verify::Run> RandomRuns(uint32_t blocks);
  void Account(const verify::VerifyResult& result);

  BlockTargetOptions options_;
  target::WritableTarget writable_;
  std::unique_ptr<io::Engine> engine_;
  io::RateLimiter* limiter_;
  std::mt19937_64 random_;
  uint64_t scrub_cursor_ = 0;
  uint64_t next_write_ns_ = 0;
  uint64_t next_cold_read_ns_ = 0;
  uint64_t next_scrub_ns_ = 0;
  TargetActivity activity_;
};

}  // namespace fscanary::daemon
