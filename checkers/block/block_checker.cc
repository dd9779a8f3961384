#include "checkers/block/block_checker.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

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

uint64_t BlockChecker::Boosted(uint64_t interval_ns) const {
  return std::max<uint64_t>(static_cast<uint64_t>(static_cast<double>(interval_ns) / boost_), 1);
}

void BlockChecker::SetBoost(double factor, uint64_t now_ns) {
  factor = std::max(factor, 1.0);
  if (factor == boost_) return;
  boost_ = factor;
  // A faster schedule starts now, not after the slower one's next turn.
  next_cold_read_ns_ =
      std::min(next_cold_read_ns_, now_ns + Boosted(options_.cold_read_interval_ns));
}

std::optional<std::vector<verify::Run>> BlockChecker::DamagedRanges(
    const std::vector<checker::Finding>& findings) {
  const target::ScratchTarget& scratch = target_->writable.target;
  const uint64_t block_size = scratch.label.block_size;
  const uint64_t block_count = scratch.label.block_count();
  const uint64_t range_blocks = std::max<uint64_t>(options_.damaged_range_bytes / block_size, 1);
  std::vector<uint64_t> found;   // blocks this step already has a finding for
  std::vector<uint64_t> ranges;  // first block of each damaged range
  for (const checker::Finding& finding : findings) {
    if (!finding.block.has_value() || finding.kind == checker::FindingKind::kIoError) continue;
    if (finding.block->offset < scratch.label.data_start) continue;
    const uint64_t block = (finding.block->offset - scratch.label.data_start) / block_size;
    found.push_back(block);
    if (followed_up_.size() >= options_.max_followed_up ||
        !followed_up_.emplace(finding.block->offset, finding.block->expected_generation).second) {
      continue;
    }
    ranges.push_back(block / range_blocks * range_blocks);
  }
  if (ranges.empty()) return std::nullopt;
  std::sort(ranges.begin(), ranges.end());
  ranges.erase(std::unique(ranges.begin(), ranges.end()), ranges.end());
  std::sort(found.begin(), found.end());
  // Runs of the ranges without the blocks found: those were re-read already.
  std::vector<verify::Run> runs;
  for (const uint64_t first : ranges) {
    const uint64_t end = std::min(first + range_blocks, block_count);
    for (uint64_t block = first; block < end; ++block) {
      if (std::binary_search(found.begin(), found.end(), block)) continue;
      if (!runs.empty() && runs.back().first_block + runs.back().count == block) {
        ++runs.back().count;
      } else {
        runs.push_back({block, 1});
      }
    }
  }
  return runs;
}

uint64_t BlockChecker::next_due_ns() const {
  return std::min({next_write_ns_, next_cold_read_ns_, next_scrub_ns_});
}

std::optional<checker::Finding> BlockChecker::CountStateTrouble(
    const checker::Finding::StateTrouble& trouble, uint64_t now_ns) {
  activity_.state_records_damaged += trouble.records_damaged;
  activity_.state_records_changed += trouble.records_changed;
  activity_.blocks_newer_than_state += trouble.blocks_newer;
  if (now_ns >= window_end_ns_) {
    window_trouble_ = {};
    window_end_ns_ = now_ns + options_.state_trouble_window_ns;
  }
  window_trouble_.records_damaged += trouble.records_damaged;
  window_trouble_.records_changed += trouble.records_changed;
  window_trouble_.blocks_newer += trouble.blocks_newer;
  if (window_trouble_.total() <= options_.state_trouble_threshold) return std::nullopt;

  const std::string& state_path = target_->writable.state.path();
  checker::Finding finding{.kind = checker::FindingKind::kStateCorruption, .persistent = true};
  finding.path = state_path;
  finding.detail = absl::StrFormat(
      "state %s: %d records damaged when opened, %d read back other than written, %d blocks "
      "carrying a generation the state never issued (more than %d within %d s)",
      state_path, window_trouble_.records_damaged, window_trouble_.records_changed,
      window_trouble_.blocks_newer, options_.state_trouble_threshold,
      options_.state_trouble_window_ns / 1'000'000'000);
  finding.state_trouble = window_trouble_;
  // A new window: what is found from now on is counted afresh.
  window_trouble_ = {};
  window_end_ns_ = now_ns + options_.state_trouble_window_ns;
  return finding;
}

absl::StatusOr<std::vector<checker::Finding>> BlockChecker::Step(uint64_t now_ns) {
  const verify::PassOptions pass{.pattern = options_.pattern,
                                 .run_blocks = options_.run_blocks,
                                 .seed = random_(),
                                 .limiter = limiter_};
  const verify::VerifyOptions verify_options{.pass = pass, .evidence_dir = options_.evidence_dir};
  io::Engine& engine = *target_->engine;
  target::WritableTarget& writable = target_->writable;
  state::BlockStateFile& state = writable.state;
  const uint64_t block_count = writable.target.label.block_count();
  const uint32_t run_length =
      options_.pattern == verify::Pattern::kRandom ? 1 : options_.run_blocks;
  std::vector<checker::Finding> findings;
  checker::Finding::StateTrouble trouble;
  if (!damaged_records_counted_) {
    trouble.records_damaged = state.damaged_records();
    damaged_records_counted_ = true;
  }
  // What went wrong is reported with whatever the step found before it.
  auto failed = [&](verify::IoFailure failure) {
    ++activity_.io_errors;
    spdlog::error("target {}: {}", target_->name, failure.detail);
    findings.push_back(checker::FromIoFailure(std::move(failure)));
  };
  // The engine itself failed (not one request): once until a phase succeeds.
  auto engine_failed = [&](verify::IoOperation operation, const absl::Status& status) {
    if (engine_failure_reported_) {
      ++activity_.io_errors;
      spdlog::error("target {}: {}", target_->name, std::string(status.message()));
      return;
    }
    engine_failure_reported_ = true;
    failed(verify::FailureOf(operation, writable.target.path, 0, 0, status));
  };
  auto keep = [&](absl::StatusOr<verify::VerifyResult>& result) {
    if (!result.ok()) return engine_failed(verify::IoOperation::kRead, result.status());
    engine_failure_reported_ = false;
    Account(*result);
    // Only a generation above every one the state ever issued: a lower one
    // can be a write whose in-flight mark a later round replaced (a crash or
    // a failed write, then another round over the block), which the
    // classifier rightly forgives.
    for (const verify::VerifyResult::NewerBlock& newer : result->newer_than_state_blocks) {
      if (newer.generation <= state.max_generation()) continue;
      if (newer_counted_.insert(newer.block).second) ++trouble.blocks_newer;
    }
    for (verify::Finding& finding : result->findings) {
      findings.push_back(
          checker::FromBlockFinding(writable.target.label.target_id, std::move(finding)));
    }
  };

  if (now_ns >= next_write_ns_) {
    // A write round, then those blocks read back at once.
    const std::vector<verify::Run> written =
        RandomRuns(block_count, options_.write_blocks, run_length, random_);
    const target::Label& label = writable.target.label;
    for (const verify::Run& run : written) {
      for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
        newer_counted_.erase(block);
        // A corruption of the block's new generation is new.
        const uint64_t offset = label.data_start + block * label.block_size;
        followed_up_.erase(followed_up_.lower_bound({offset, 0}),
                           followed_up_.lower_bound({offset + 1, 0}));
      }
    }
    absl::StatusOr<verify::WriteResult> write = verify::WriteRuns(
        engine, writable.target, state, written, {.pass = pass, .durability = options_.durability});
    if (write.ok()) {
      activity_.blocks_written += write->blocks_written;
      activity_.bytes_written += write->bytes_written;
      for (verify::IoFailure& failure : write->failures) failed(std::move(failure));
      absl::StatusOr<verify::VerifyResult> readback =
          verify::VerifyRuns(engine, writable.target, state, written, verify_options);
      keep(readback);
    } else {
      engine_failed(verify::IoOperation::kWrite, write.status());
    }
    next_write_ns_ = now_ns + options_.write_interval_ns;
  }

  if (now_ns >= next_cold_read_ns_) {
    // Blocks written earlier, read from the device (O_DIRECT: no cache).
    absl::StatusOr<verify::VerifyResult> cold = verify::VerifyRuns(
        engine, writable.target, state,
        RandomRuns(block_count, options_.cold_read_blocks, run_length, random_), verify_options);
    keep(cold);
    next_cold_read_ns_ = now_ns + Boosted(options_.cold_read_interval_ns);
  }

  if (now_ns >= next_scrub_ns_) {
    // Every block once per scrub interval: a step's share of the target, and
    // the share of the state file that describes it, read back.
    // After a corruption, the whole target within urgent_scrub_interval_ns.
    uint64_t interval_ns = Boosted(options_.scrub_interval_ns);
    if (urgent_scrub_blocks_ > 0) {
      interval_ns = std::min(interval_ns, options_.urgent_scrub_interval_ns);
    }
    const uint64_t steps = std::max<uint64_t>(interval_ns / kScrubStepNs, 1);
    const uint64_t per_step = std::max<uint64_t>((block_count + steps - 1) / steps, 1);
    const bool capped = options_.max_step_blocks != 0 && per_step > options_.max_step_blocks;
    const auto count = static_cast<uint32_t>(std::min<uint64_t>(
        capped ? options_.max_step_blocks : per_step, block_count - scrub_cursor_));
    const verify::Run scrub_run{scrub_cursor_, count};
    absl::StatusOr<verify::VerifyResult> scrub = verify::VerifyRuns(
        engine, writable.target, state, std::span(&scrub_run, 1), verify_options);
    keep(scrub);
    CheckStoredState(scrub_run, trouble, failed);
    scrub_cursor_ += count;
    urgent_scrub_blocks_ -= std::min<uint64_t>(urgent_scrub_blocks_, count);
    if (scrub_cursor_ >= block_count) {
      scrub_cursor_ = 0;
      ++activity_.passes_completed;
    }
    // Behind its interval (the budget caps its steps): on at the next turn.
    next_scrub_ns_ = capped ? now_ns : now_ns + std::min(kScrubStepNs, interval_ns);
  }

  // A new corruption: the blocks around it at once (with evidence, as any
  // finding), and the whole target soon. What this read finds is followed up
  // by that scrub, not by another read around it.
  // Armed even when the read around it has nothing left to read (the whole
  // range found bad already, or a range of one block): the worst damage.
  if (const std::optional<std::vector<verify::Run>> damaged = DamagedRanges(findings)) {
    uint64_t blocks = 0;
    for (const verify::Run& run : *damaged) blocks += run.count;
    spdlog::warn(
        "target {}: corruption found; verifying {} blocks around it now and the whole "
        "target within {} s, as far as the budget allows",
        target_->name, blocks, options_.urgent_scrub_interval_ns / 1'000'000'000);
    if (!damaged->empty()) {
      absl::StatusOr<verify::VerifyResult> around =
          verify::VerifyRuns(engine, writable.target, state, *damaged, verify_options);
      keep(around);
    }
    if (urgent_scrub_blocks_ == 0) {
      urgent_scrub_blocks_ = block_count;
      next_scrub_ns_ = now_ns;
    }
  }
  if (std::optional<checker::Finding> corrupted = CountStateTrouble(trouble, now_ns)) {
    findings.push_back(*std::move(corrupted));
  }
  return findings;
}

void BlockChecker::CheckStoredState(const verify::Run& run, checker::Finding::StateTrouble& trouble,
                                    const std::function<void(verify::IoFailure)>& failed) {
  state::BlockStateFile& state = target_->writable.state;
  const uint64_t offset = state::kStateHeaderBytes + run.first_block * state::kRecordBytes;
  const uint64_t length = uint64_t{run.count} * state::kRecordBytes;
  absl::StatusOr<std::vector<uint64_t>> changed = state.CheckStored(run.first_block, run.count);
  if (!changed.ok()) {
    return failed(verify::FailureOf(verify::IoOperation::kStateRead, state.path(), offset, length,
                                    changed.status()));
  }
  if (changed->empty()) return;
  trouble.records_changed += changed->size();
  spdlog::error("target {}: {} records of {} read back other than written; writing them again",
                target_->name, changed->size(), state.path());
  // What the checker knows goes back to disk.
  const state::BlockStateFile::ByteRange pending = state.PendingBytes();
  if (absl::Status flushed = state.Flush(); !flushed.ok()) {
    failed(verify::FailureOf(verify::IoOperation::kStateWrite, state.path(), pending.offset,
                             pending.length, flushed));
  }
}

checker::Activity BlockChecker::TakeActivity() { return std::exchange(activity_, {}); }

}  // namespace fscanary::blockcheck
