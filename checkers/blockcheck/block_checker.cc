#include "checkers/blockcheck/block_checker.h"

#include <algorithm>

#include "common/status.h"
#include "io/posix.h"

namespace fscanary::blockcheck {

std::vector<verify::Run> RandomRuns(uint64_t block_count, uint32_t count, uint32_t run_length,
                                    std::mt19937_64& random) {
  run_length = std::max<uint32_t>(run_length, 1);
  std::vector<verify::Run> runs;
  if (block_count == 0) return runs;
  std::uniform_int_distribution<uint64_t> pick(0, (block_count - 1) / run_length);
  for (uint64_t done = 0; done < count && done < block_count;) {
    const uint64_t first = pick(random) * run_length;
    const auto length = static_cast<uint32_t>(std::min<uint64_t>(run_length, block_count - first));
    const bool overlaps = std::any_of(runs.begin(), runs.end(), [&](const verify::Run& run) {
      return first < run.first_block + run.count && run.first_block < first + length;
    });
    if (overlaps) continue;
    runs.push_back({first, length});
    done += length;
  }
  return runs;
}

checker::TargetDescription DescribeSharedTarget(const SharedTarget& target) {
  const target::ScratchTarget& scratch = target.writable.target;
  return {.path = scratch.path,
          .kind = scratch.is_block_device ? "block_device" : "file",
          .size_bytes = scratch.label.declared_size,
          .block_size = scratch.label.block_size,
          .engine = std::string(target.engine->Name()),
          .target_id = scratch.label.target_id};
}

BlockChecker::BlockChecker(std::shared_ptr<SharedTarget> target, BlockCheckerOptions options,
                           io::RateLimiter* limiter)
    : target_(std::move(target)),
      options_(std::move(options)),
      limiter_(limiter),
      random_(io::RandomU64()) {}

checker::TargetDescription BlockChecker::Describe() const { return DescribeSharedTarget(*target_); }

void BlockChecker::Account(const verify::VerifyResult& result) {
  activity_.blocks_verified += result.blocks_verified;
  activity_.bytes_verified += result.bytes_verified;
  activity_.findings += result.findings.size();
  for (const verify::Finding& finding : result.findings) {
    if (finding.verdict.kind == block::Kind::kIoError) ++activity_.io_errors;
  }
  activity_.read_latency.Merge(result.read_latency);
}

namespace {
// The scrub advances in steps of about this long.
constexpr uint64_t kScrubStepNs = 1'000'000'000;
}  // namespace

uint64_t BlockChecker::next_due_ns() const {
  return std::min({next_write_ns_, next_cold_read_ns_, next_scrub_ns_});
}

absl::StatusOr<std::vector<checker::Finding>> BlockChecker::Step(uint64_t now_ns) {
  const verify::PassOptions pass{.pattern = options_.pattern,
                                 .run_blocks = options_.run_blocks,
                                 .seed = random_(),
                                 .limiter = limiter_};
  const verify::VerifyOptions verify_options{.pass = pass, .evidence_dir = options_.evidence_dir};
  io::Engine& engine = *target_->engine;
  target::WritableTarget& writable = target_->writable;
  const uint64_t block_count = writable.target.label.block_count();
  const uint32_t run_length =
      options_.pattern == verify::Pattern::kRandom ? 1 : options_.run_blocks;
  std::vector<checker::Finding> findings;
  auto keep = [&](verify::VerifyResult& result) {
    Account(result);
    for (verify::Finding& finding : result.findings) {
      findings.push_back(
          checker::FromBlockFinding(writable.target.label.target_id, std::move(finding)));
    }
  };

  if (now_ns >= next_write_ns_) {
    // A write round, then those blocks read back at once.
    const std::vector<verify::Run> written =
        RandomRuns(block_count, options_.write_blocks, run_length, random_);
    ASSIGN_OR_RETURN(const verify::WriteResult write,
                     verify::WriteRuns(engine, writable.target, writable.state, written,
                                       {.pass = pass, .durability = options_.durability}));
    activity_.blocks_written += write.blocks_written;
    activity_.bytes_written += write.bytes_written;
    activity_.io_errors += write.failures.size();
    ASSIGN_OR_RETURN(
        verify::VerifyResult readback,
        verify::VerifyRuns(engine, writable.target, writable.state, written, verify_options));
    keep(readback);
    next_write_ns_ = now_ns + options_.write_interval_ns;
  }

  if (now_ns >= next_cold_read_ns_) {
    // Blocks written earlier, read from the device (O_DIRECT: no cache).
    ASSIGN_OR_RETURN(
        verify::VerifyResult cold,
        verify::VerifyRuns(engine, writable.target, writable.state,
                           RandomRuns(block_count, options_.cold_read_blocks, run_length, random_),
                           verify_options));
    keep(cold);
    next_cold_read_ns_ = now_ns + options_.cold_read_interval_ns;
  }

  if (now_ns >= next_scrub_ns_) {
    // Every block once per scrub interval: a step's share of the target.
    const uint64_t steps = std::max<uint64_t>(options_.scrub_interval_ns / kScrubStepNs, 1);
    const uint64_t per_step = std::max<uint64_t>((block_count + steps - 1) / steps, 1);
    const auto count =
        static_cast<uint32_t>(std::min<uint64_t>(per_step, block_count - scrub_cursor_));
    const verify::Run scrub_run{scrub_cursor_, count};
    ASSIGN_OR_RETURN(verify::VerifyResult scrub,
                     verify::VerifyRuns(engine, writable.target, writable.state,
                                        std::span(&scrub_run, 1), verify_options));
    keep(scrub);
    scrub_cursor_ += count;
    if (scrub_cursor_ >= block_count) {
      scrub_cursor_ = 0;
      ++activity_.passes_completed;
    }
    next_scrub_ns_ = now_ns + std::min(kScrubStepNs, options_.scrub_interval_ns);
  }
  return findings;
}

checker::Activity BlockChecker::TakeActivity() { return std::exchange(activity_, {}); }

}  // namespace fscanary::blockcheck
