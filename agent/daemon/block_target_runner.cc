#include "agent/daemon/block_target_runner.h"

#include <algorithm>

#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::daemon {

absl::StatusOr<std::unique_ptr<BlockTargetRunner>> BlockTargetRunner::Open(
    const BlockTargetOptions& options, io::RateLimiter* limiter) {
  ASSIGN_OR_RETURN(target::WritableTarget writable, target::OpenForWrite(options.target));
  ASSIGN_OR_RETURN(io::EngineChoice choice,
                   io::CreateEngine({.kind = options.engine,
                                     .queue_depth = options.queue_depth,
                                     .buffer_size = writable.target.label.block_size}));
  if (!choice.fallback_reason.empty()) {
    spdlog::warn("target {}: io_uring unavailable ({}); using {}", options.name,
                 choice.fallback_reason, choice.engine->Name());
  }
  if (writable.created) {
    spdlog::info("target {}: labelled {} as fscanary target {:016x} ({} blocks of {} bytes)",
                 options.name, writable.target.path, writable.target.label.target_id,
                 writable.target.label.block_count(), writable.target.label.block_size);
  }
  return std::unique_ptr<BlockTargetRunner>(
      new BlockTargetRunner(options, std::move(writable), std::move(choice.engine), limiter));
}

BlockTargetRunner::BlockTargetRunner(BlockTargetOptions options, target::WritableTarget writable,
                                     std::unique_ptr<io::Engine> engine, io::RateLimiter* limiter)
    : options_(std::move(options)),
      writable_(std::move(writable)),
      engine_(std::move(engine)),
      limiter_(limiter),
      random_(io::RandomU64()) {}

std::vector<verify::Run> BlockTargetRunner::RandomRuns(uint32_t blocks) {
  const uint64_t block_count = writable_.target.label.block_count();
  const uint32_t run_length =
      options_.pattern == verify::Pattern::kRandom ? 1 : std::max<uint32_t>(options_.run_blocks, 1);
  std::vector<verify::Run> runs;
  std::uniform_int_distribution<uint64_t> pick(0, (block_count - 1) / run_length);
  for (uint32_t done = 0; done < blocks && done < block_count;) {
    const uint64_t first = pick(random_) * run_length;
    const auto count = static_cast<uint32_t>(std::min<uint64_t>(run_length, block_count - first));
    const bool overlaps = std::any_of(runs.begin(), runs.end(), [&](const verify::Run& run) {
      return first < run.first_block + run.count && run.first_block < first + count;
    });
    if (overlaps) continue;  // a block is written once per generation
    runs.push_back({first, count});
    done += count;
  }
  return runs;
}

void BlockTargetRunner::Account(const verify::VerifyResult& result) {
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

uint64_t BlockTargetRunner::next_due_ns() const {
  return std::min({next_write_ns_, next_cold_read_ns_, next_scrub_ns_});
}

absl::StatusOr<std::vector<verify::Finding>> BlockTargetRunner::Step(uint64_t now_ns) {
  const verify::PassOptions pass{.pattern = options_.pattern,
                                 .run_blocks = options_.run_blocks,
                                 .seed = random_(),
                                 .limiter = limiter_};
  const verify::VerifyOptions verify_options{.pass = pass, .evidence_dir = options_.evidence_dir};
  std::vector<verify::Finding> findings;
  auto keep = [&](verify::VerifyResult& result) {
    Account(result);
    for (verify::Finding& finding : result.findings) findings.push_back(std::move(finding));
  };

  if (now_ns >= next_write_ns_) {
    // A write round, then those blocks read back at once.
    const std::vector<verify::Run> written = RandomRuns(options_.write_blocks);
    ASSIGN_OR_RETURN(const verify::WriteResult write,
                     verify::WriteRuns(*engine_, writable_.target, writable_.state, written,
                                       {.pass = pass, .durability = options_.durability}));
    activity_.blocks_written += write.blocks_written;
    activity_.bytes_written += write.bytes_written;
    activity_.io_errors += write.failures.size();
    ASSIGN_OR_RETURN(
        verify::VerifyResult readback,
        verify::VerifyRuns(*engine_, writable_.target, writable_.state, written, verify_options));
    keep(readback);
    next_write_ns_ = now_ns + options_.write_interval_ns;
  }

  if (now_ns >= next_cold_read_ns_) {
    // Blocks written earlier, read from the device (O_DIRECT: no cache).
    ASSIGN_OR_RETURN(verify::VerifyResult cold,
                     verify::VerifyRuns(*engine_, writable_.target, writable_.state,
                                        RandomRuns(options_.cold_read_blocks), verify_options));
    keep(cold);
    next_cold_read_ns_ = now_ns + options_.cold_read_interval_ns;
  }

  if (now_ns >= next_scrub_ns_) {
    // Every block once per scrub interval: a step's share of the target.
    const uint64_t block_count = writable_.target.label.block_count();
    const uint64_t steps = std::max<uint64_t>(options_.scrub_interval_ns / kScrubStepNs, 1);
    const uint64_t per_step = std::max<uint64_t>((block_count + steps - 1) / steps, 1);
    const auto count =
        static_cast<uint32_t>(std::min<uint64_t>(per_step, block_count - scrub_cursor_));
    const verify::Run scrub_run{scrub_cursor_, count};
    ASSIGN_OR_RETURN(verify::VerifyResult scrub,
                     verify::VerifyRuns(*engine_, writable_.target, writable_.state,
                                        std::span(&scrub_run, 1), verify_options));
    keep(scrub);
    scrub_cursor_ += count;
    if (scrub_cursor_ >= block_count) {
      scrub_cursor_ = 0;
      ++activity_.scrubs_completed;
    }
    next_scrub_ns_ = now_ns + std::min(kScrubStepNs, options_.scrub_interval_ns);
  }
  return findings;
}

TargetActivity BlockTargetRunner::TakeActivity() {
  TargetActivity taken = activity_;
  activity_ = TargetActivity{};
  return taken;
}

}  // namespace fscanary::daemon
