#pragma once
// The block checker of one scratch target as the agent runs it: write rounds
// (a new generation for some blocks, O_DIRECT, read back at once), cold reads
// of blocks written earlier, and a scrub that walks the whole target once per
// interval, each in small steps when due, so the agent stays within its budget.
// A corruption found the first time is followed at once by a read of the
// blocks around it, and by a scrub of the whole target within
// urgent_scrub_interval_ns.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "checkers/block/shared_target.h"
#include "checkers/block/verify/verify_pass.h"
#include "checkers/block/verify/write_pass.h"
#include "checkers/checker/checker.h"
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
  // Trouble with the checker's own state — records damaged when it was
  // opened, records the scrub reads back other than last written, blocks
  // carrying a generation above every one the state issued — each counted
  // once: more
  // than `state_trouble_threshold` within one window is a state_corruption
  // finding (the daemon passes its report interval as the window).
  uint64_t state_trouble_window_ns = 60'000'000'000;
  uint32_t state_trouble_threshold = 0;
  // After a new corruption: the blocks of the aligned range of this many
  // bytes that holds it are read again at once (a merged request, a
  // misdirected or torn write damages more than one block; Linux's
  // max_sectors_kb is 512 KiB to 1280 KiB by default), and the whole target
  // is scrubbed within urgent_scrub_interval_ns (or as fast as the budget
  // allows), whatever scrub_interval_ns says.
  uint64_t damaged_range_bytes = 1 << 20;
  uint64_t urgent_scrub_interval_ns = 600'000'000'000;
  // Corruptions remembered as followed up (a block's are forgotten when it
  // is written again): enough for a sick target for a long while; past it,
  // a target so damaged has nothing more to show.
  size_t max_followed_up = 4096;
  // The most blocks one scrub step verifies (0: no cap): about a second of
  // the agent's budget, so that no step holds the agent's loop (and its
  // watchdog) for long whatever the target's size and the scrub's interval;
  // a scrub behind its interval goes on at the next steps.
  uint64_t max_step_blocks = 0;
};

// `count` blocks of a target in runs of `run_length` adjacent blocks at random
// places, no block twice (a block is written once per generation).
std::vector<verify::Run> RandomRuns(uint64_t block_count, uint32_t count, uint32_t run_length,
                                    std::mt19937_64& random);

// Failures of its own I/O (a write, the target's sync, the state file) are
// io_error findings returned with the step's other findings; a failed phase
// is tried again at its next interval.
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
  void SetBoost(double factor, uint64_t now_ns) override;

 private:
  // An interval of the verification schedule (cold reads, scrub), shortened
  // by the boost in force. Write rounds keep their pace: their fdatasyncs are
  // not charged to the limiter, so a boost would multiply them past the budget.
  uint64_t Boosted(uint64_t interval_ns) const;
  // The blocks of the damaged ranges around the corruptions among `findings`
  // not followed up before (each block and generation once), without the
  // blocks found (so possibly none); remembers them as followed up. nullopt
  // when there was no such corruption.
  std::optional<std::vector<verify::Run>> DamagedRanges(
      const std::vector<checker::Finding>& findings);
  void Account(const verify::VerifyResult& result);
  // Counts the state trouble of a step; the state_corruption finding once
  // the window's count exceeds the threshold.
  // Reads back the state records of `run` (the scrub's share).
  void CheckStoredState(const verify::Run& run, checker::Finding::StateTrouble& trouble,
                        const std::function<void(verify::IoFailure)>& failed);
  std::optional<checker::Finding> CountStateTrouble(const checker::Finding::StateTrouble& trouble,
                                                    uint64_t now_ns);

  std::shared_ptr<SharedTarget> target_;
  BlockCheckerOptions options_;
  io::RateLimiter* limiter_;
  std::mt19937_64 random_;
  uint64_t scrub_cursor_ = 0;
  uint64_t next_write_ns_ = 0;
  uint64_t next_cold_read_ns_ = 0;
  uint64_t next_scrub_ns_ = 0;
  double boost_ = 1;
  // Blocks the urgent scrub (after a corruption) still has to verify.
  uint64_t urgent_scrub_blocks_ = 0;
  // Corruptions (offset, expected generation) already followed up: a
  // persistent one found again by every pass is not followed up again. A
  // block's are erased when a write round writes it again.
  std::set<std::pair<uint64_t, uint64_t>> followed_up_;
  checker::Activity activity_;
  // The state's damaged records are counted once, at the first step.
  bool damaged_records_counted_ = false;
  // Blocks counted newer than the state, until they are written again.
  std::unordered_set<uint64_t> newer_counted_;
  checker::Finding::StateTrouble window_trouble_;
  uint64_t window_end_ns_ = 0;
  // An error of the engine itself is reported once until a phase succeeds.
  bool engine_failure_reported_ = false;
};

// The description of a block-format target, for every checker sharing it.
checker::TargetDescription DescribeSharedTarget(const SharedTarget& target);

}  // namespace fscanary::blockcheck
