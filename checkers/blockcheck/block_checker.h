#pragma once
// The block checker of one scratch target as the agent runs it: write rounds
// (a new generation for some blocks, O_DIRECT, read back at once), cold reads
// of blocks written earlier, and a scrub that walks the whole target once per
// interval, each in small steps when due, so the agent stays within its budget.

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "checkers/blockcheck/shared_target.h"
#include "checkers/checker/checker.h"
#include "checkers/verify/verify_pass.h"
#include "checkers/verify/write_pass.h"
#include "io/rate_limiter.h"

namespace fscanary::blockcheck {

struct BlockCheckerOptions {
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

// `count` blocks of a target in runs of `run_length` adjacent blocks at random
// places, no block twice (a block is written once per generation).
std::vector<verify::Run> RandomRuns(uint64_t block_count, uint32_t count, uint32_t run_length,
                                    std::mt19937_64& random);

class BlockChecker final : public checker::Checker {
 public:
  // `limiter` may be null (no limit); it must outlive the checker.
  BlockChecker(std::shared_ptr<SharedTarget> target, BlockCheckerOptions options,
               io::RateLimiter* limiter);

  std::string_view name() const override { return "block"; }
  checker::TargetDescription Describe() const override;
  uint64_t next_due_ns() const override;
  absl::StatusOr<std::vector<checker::Finding>> Step(uint64_t now_ns) override;
  checker::Activity TakeActivity() override;

 private:
  void Account(const verify::VerifyResult& result);

  std::shared_ptr<SharedTarget> target_;
  BlockCheckerOptions options_;
  io::RateLimiter* limiter_;
  std::mt19937_64 random_;
  uint64_t scrub_cursor_ = 0;
  uint64_t next_write_ns_ = 0;
  uint64_t next_cold_read_ns_ = 0;
  uint64_t next_scrub_ns_ = 0;
  checker::Activity activity_;
};

// The description of a block-format target, for every checker sharing it.
checker::TargetDescription DescribeSharedTarget(const SharedTarget& target);

}  // namespace fscanary::blockcheck
