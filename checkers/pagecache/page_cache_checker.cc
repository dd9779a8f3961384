#include "checkers/pagecache/page_cache_checker.h"

#include <fcntl.h>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "checkers/block/block_checker.h"
#include "checkers/block/format/format.h"
#include "checkers/block/target/scratch_target.h"
#include "checkers/block/verify/block_pipeline.h"
#include "checkers/block/verify/evidence.h"
#include "checkers/block/verify/verify_pass.h"
#include "checkers/pagecache/compare_paths.h"
#include "checkers/pagecache/filter_runs.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::pagecache {
namespace {

block::Verdict ClassifyRead(const block::Expectation& expectation,
                            std::span<const std::byte> buffer, int64_t io_result) {
  if (io_result != static_cast<int64_t>(buffer.size())) return block::ClassifyFailedRead(io_result);
  return block::Classify(expectation, buffer);
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

}  // namespace

absl::StatusOr<std::unique_ptr<PageCacheChecker>> PageCacheChecker::Create(
    std::shared_ptr<blockcheck::SharedTarget> target, PageCacheOptions options,
    io::RateLimiter* limiter) {
  if (target == nullptr) return absl::InvalidArgumentError("page_cache checker: no target");
  const target::ScratchTarget& scratch = target->writable.target;
  if (scratch.is_block_device) {
    return absl::InvalidArgumentError(absl::StrCat(
        "target ", target->name, ": ", scratch.path,
        " is a block device; the page_cache checker runs on regular files only (a device's page "
        "cache is not a filesystem's)"));
  }
  // A buffered descriptor on the labelled file itself: never O_CREAT, no
  // symbolic link on the path, the same device and inode (Aborted otherwise).
  ASSIGN_OR_RETURN(io::UniqueFd fd, target::Reopen(scratch, O_RDWR));
  return std::unique_ptr<PageCacheChecker>(
      new PageCacheChecker(std::move(target), std::move(options), limiter, std::move(fd)));
}

PageCacheChecker::PageCacheChecker(std::shared_ptr<blockcheck::SharedTarget> target,
                                   PageCacheOptions options, io::RateLimiter* limiter,
                                   io::UniqueFd fd)
    : target_(std::move(target)),
      options_(std::move(options)),
      limiter_(limiter),
      fd_(std::move(fd)),
      random_(io::RandomU64()) {}

checker::TargetDescription PageCacheChecker::Describe() const {
  return blockcheck::DescribeSharedTarget(*target_);
}

uint64_t PageCacheChecker::next_due_ns() const {
  return std::min(next_write_ns_, next_cold_read_ns_);
}

checker::Activity PageCacheChecker::TakeActivity() { return std::exchange(activity_, {}); }

absl::StatusOr<std::vector<checker::Finding>> PageCacheChecker::Step(uint64_t now_ns) {
  std::vector<checker::Finding> findings;
  auto keep = [&](std::vector<checker::Finding>& found) {
    activity_.findings += found.size();
    for (checker::Finding& finding : found) findings.push_back(std::move(finding));
  };
  // A step that cannot go on returns what it found, with its error as an
  // io_error finding beside it: a step returns findings or an error, and an
  // error alone would drop them.
  auto stopped = [&](const absl::Status& error) -> absl::StatusOr<std::vector<checker::Finding>> {
    if (findings.empty()) return error;
    findings.push_back(checker::FromStepError(Describe().path, error));
    return findings;
  };
  if (now_ns >= next_write_ns_) {
    failures_.clear();
    absl::StatusOr<std::vector<verify::Run>> written = WriteRound();
    // What failed in the round is reported even when the round could not go on.
    std::vector<checker::Finding> failed;
    for (verify::IoFailure& failure : failures_) {
      failed.push_back(checker::FromIoFailure(std::move(failure)));
    }
    failures_.clear();
    keep(failed);
    if (!written.ok()) return stopped(written.status());
    absl::StatusOr<std::vector<checker::Finding>> readback = VerifyBothWays(*written);
    if (!readback.ok()) return stopped(readback.status());
    keep(*readback);
    next_write_ns_ = now_ns + options_.write_interval_ns;
  }
  if (now_ns >= next_cold_read_ns_) {
    const std::vector<verify::Run> cold =
        blockcheck::RandomRuns(target_->writable.target.label.block_count(),
                               options_.cold_read_blocks, options_.run_blocks, random_);
    absl::StatusOr<std::vector<checker::Finding>> found = VerifyBothWays(cold);
    if (!found.ok()) return stopped(found.status());
    keep(*found);
    next_cold_read_ns_ = now_ns + options_.cold_read_interval_ns;
  }
  return findings;
}

void PageCacheChecker::Failed(verify::IoFailure failure) {
  ++activity_.io_errors;
  spdlog::warn("target {}: page_cache: {}", target_->name, failure.detail);
  failures_.push_back(std::move(failure));
}

void PageCacheChecker::Throttle(uint64_t blocks) {
  if (limiter_ == nullptr) return;
  const uint64_t bytes = blocks * target_->writable.target.label.block_size;
  io::SleepNanos(limiter_->Reserve(bytes, blocks, io::MonotonicNanos()));
}

block::Expectation PageCacheChecker::ExpectationOf(uint64_t block) const {
  const state::TargetGeometry geometry = target_->writable.target.geometry();
  const state::BlockRecord record = target_->writable.state.Get(block);
  return {.target_id = geometry.target_id,
          .offset = geometry.data_start + block * geometry.block_size,
          .durable_generation = record.durable_generation,
          .inflight_generation = record.inflight_generation,
          .first_write = record.first_write};
}

absl::StatusOr<PageCacheChecker::Read> PageCacheChecker::ReadDirect(uint64_t block) {
  const state::TargetGeometry geometry = target_->writable.target.geometry();
  io::Engine& engine = *target_->engine;
  const verify::PipelineTarget pipeline_target{.fd = target_->writable.target.fd.get(),
                                               .data_start = geometry.data_start,
                                               .block_size = geometry.block_size};
  ASSIGN_OR_RETURN(const int64_t got, verify::ReadOneBlock(engine, pipeline_target, block));
  const std::span<const std::byte> bytes = engine.Buffer(0).first(geometry.block_size);
  return Read{.verdict = ClassifyRead(ExpectationOf(block), bytes, got),
              .bytes = {bytes.begin(), bytes.end()}};
}

absl::StatusOr<bool> PageCacheChecker::StillMismatched(uint64_t block) {
  const block::Expectation expectation = ExpectationOf(block);
  const std::string& path = target_->writable.target.path;
  std::vector<std::byte> buffered(target_->writable.target.label.block_size);
  RETURN_IF_ERROR(io::DropCachedRange(fd_.get(), expectation.offset, buffered.size(), path));
  ASSIGN_OR_RETURN(const Read direct, ReadDirect(block));
  const int64_t got = io::ReadFullOrErrno(fd_.get(), buffered, expectation.offset);
  const block::Verdict verdict = ClassifyRead(expectation, buffered, got);
  return ComparePaths(verdict, buffered, direct.verdict, direct.bytes) ==
         checker::FindingKind::kPageCacheMismatch;
}

std::string PageCacheChecker::SaveBufferedEvidence(const verify::Finding& finding,
                                                   std::span<const std::byte> found) {
  const uint64_t target_id = target_->writable.target.label.target_id;
  std::vector<std::byte> expected(found.size());
  block::EncodeBlock(
      {.target_id = target_id, .offset = finding.offset, .generation = finding.expected_generation},
      block::RawWriteTime(found), expected);
  absl::StatusOr<std::string> dir =
      verify::SaveEvidence(options_.evidence_dir, target_id, finding, found, expected);
  if (dir.ok()) return *dir;
  // Losing evidence must not lose the finding itself.
  spdlog::warn("could not save evidence of the buffered read at offset {}: {}", finding.offset,
               Message(dir.status()));
  return "";
}

absl::StatusOr<std::vector<checker::Finding>> PageCacheChecker::VerifyBothWays(
    std::span<const verify::Run> planned) {
  target::WritableTarget& writable = target_->writable;
  const state::BlockStateFile& state = writable.state;
  const state::TargetGeometry geometry = writable.target.geometry();
  const std::string& path = writable.target.path;
  std::vector<checker::Finding> findings;
  const std::vector<verify::Run> runs = FilterRuns(planned, [&](uint64_t block) {
    const state::BlockRecord record = state.Get(block);
    return !record.damaged && record.durable_generation != 0;
  });
  if (runs.empty()) return findings;

  // Neither read may be served by what a write or an earlier read left in the
  // cache: both go to the device, each by its own path. (Pages someone keeps
  // mapped stay cached; the buffered read then shows them.)
  for (const verify::Run& run : runs) {
    RETURN_IF_ERROR(io::DropCachedRange(fd_.get(),
                                        geometry.data_start + run.first_block * geometry.block_size,
                                        uint64_t{run.count} * geometry.block_size, path));
  }

  // O_DIRECT first, so its reads are not disturbed by pages the buffered reads
  // bring in: classification, re-reads and evidence as the block checker's.
  const verify::VerifyOptions verify_options{.pass = {.pattern = verify::Pattern::kMerge,
                                                      .run_blocks = options_.run_blocks,
                                                      .limiter = limiter_},
                                             .evidence_dir = options_.evidence_dir};
  ASSIGN_OR_RETURN(
      verify::VerifyResult direct,
      verify::VerifyRuns(*target_->engine, writable.target, state, runs, verify_options));
  activity_.blocks_verified += direct.blocks_verified;
  activity_.bytes_verified += direct.bytes_verified;
  activity_.read_latency.Merge(direct.read_latency);
  std::unordered_map<uint64_t, size_t> direct_finding_at;  // offset -> index
  for (size_t i = 0; i < direct.findings.size(); ++i) {
    direct_finding_at[direct.findings[i].offset] = i;
  }

  uint32_t evidence_saved = 0;
  std::vector<std::byte> buffer(geometry.block_size);
  for (const verify::Run& run : runs) {
    Throttle(run.count);
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      const block::Expectation expectation = ExpectationOf(block);
      const int64_t got = io::ReadFullOrErrno(fd_.get(), buffer, expectation.offset);
      block::Verdict buffered = ClassifyRead(expectation, buffer, got);
      const auto at = direct_finding_at.find(expectation.offset);
      verify::Finding* direct_finding =
          at == direct_finding_at.end() ? nullptr : &direct.findings[at->second];
      if (direct_finding == nullptr && !buffered.is_finding()) continue;

      const block::Verdict direct_verdict =
          direct_finding != nullptr ? direct_finding->verdict : block::Verdict{};
      std::vector<std::byte> direct_bytes;
      if (direct_finding != nullptr && buffered.kind == direct_verdict.kind &&
          direct_verdict.kind != block::Kind::kIoError) {
        // VerifyRuns keeps no bytes; the same corruption must be the same
        // bytes, so read them once more (a failed read has none to compare).
        ASSIGN_OR_RETURN(Read reread, ReadDirect(block));
        direct_bytes = std::move(reread.bytes);
      }
      const std::optional<checker::FindingKind> kind =
          ComparePaths(buffered, buffer, direct_verdict, direct_bytes);
      if (!kind) continue;
      if (buffered.kind == block::Kind::kIoError || direct_verdict.kind == block::Kind::kIoError) {
        ++activity_.io_errors;
      }

      if (*kind != checker::FindingKind::kPageCacheMismatch) {
        checker::Finding finding =
            checker::FromBlockFinding(geometry.target_id, std::move(*direct_finding));
        finding.buffered = std::move(buffered);
        findings.push_back(std::move(finding));
        continue;
      }

      // The paths disagree. Where the device read was right, the finding
      // carries a direct verdict of ok, and the evidence is the buffered read.
      verify::Finding direct_block =
          direct_finding != nullptr
              ? std::move(*direct_finding)
              : verify::Finding{.offset = expectation.offset,
                                .expected_generation = expectation.durable_generation};
      if (direct_finding == nullptr && !options_.evidence_dir.empty() &&
          evidence_saved < verify_options.max_evidence_blocks) {
        const verify::Finding as_buffered{.offset = expectation.offset,
                                          .verdict = buffered,
                                          .expected_generation = expectation.durable_generation};
        direct_block.evidence_dir = SaveBufferedEvidence(as_buffered, buffer);
        if (!direct_block.evidence_dir.empty()) ++evidence_saved;
      }
      ASSIGN_OR_RETURN(const bool persistent, StillMismatched(block));
      checker::Finding finding{.kind = checker::FindingKind::kPageCacheMismatch,
                               .persistent = persistent,
                               .buffered = std::move(buffered)};
      finding.key = checker::BlockFindingKey(geometry.target_id, direct_block,
                                             checker::FindingKind::kPageCacheMismatch);
      finding.block = std::move(direct_block);
      findings.push_back(std::move(finding));
    }
  }
  return findings;
}

}  // namespace fscanary::pagecache
