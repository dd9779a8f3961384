#include "checkers/checker/finding.h"

#include "checkers/checker/checker.h"

namespace fscanary::checker {

static_assert(static_cast<uint32_t>(block::Kind::kChecksumMismatch) ==
              static_cast<uint32_t>(FindingKind::kChecksumMismatch));
static_assert(static_cast<uint32_t>(block::Kind::kShortRead) ==
              static_cast<uint32_t>(FindingKind::kShortRead));

FindingKind FromBlockKind(block::Kind kind) {
  // block::Kind numbers its finding kinds as FindingKind does (kOk is 0).
  return static_cast<FindingKind>(static_cast<uint32_t>(kind));
}

std::string_view FindingKindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kPageCacheMismatch:
      return "page_cache_mismatch";
    case FindingKind::kMetadataMismatch:
      return "metadata_mismatch";
    case FindingKind::kKernelReported:
      return "kernel_reported";
    case FindingKind::kStateCorruption:
      return "state_corruption";
    default:
      return block::KindName(static_cast<block::Kind>(static_cast<uint32_t>(kind)));
  }
}

FindingKey BlockFindingKey(uint64_t target_id, const verify::Finding& block, FindingKind kind) {
  // A lost and a torn write of one generation are one corruption (that write
  // did not persist whole): a later write interrupted over the block (a power
  // cut) can leave either picture of it, and must not make it new.
  if (kind == FindingKind::kTornWrite) kind = FindingKind::kLostWrite;
  return {.target_id = target_id,
          .offset = block.offset,
          .expected_generation = block.expected_generation,
          .kind = static_cast<uint32_t>(kind)};
}

Finding FromBlockFinding(uint64_t target_id, verify::Finding block) {
  Finding finding;
  finding.kind = FromBlockKind(block.verdict.kind);
  finding.persistent = block.persistent;
  finding.key = BlockFindingKey(target_id, block, finding.kind);
  finding.block = std::move(block);
  return finding;
}

Finding FromIoFailure(verify::IoFailure failure) {
  Finding finding{.kind = FindingKind::kIoError};
  // Nothing re-checks a failed write or sync: it happened once, for certain.
  finding.persistent = true;
  finding.path = failure.file;
  finding.detail = failure.detail;
  finding.io_failure = std::move(failure);
  return finding;
}

Finding FromStepError(const std::string& path, const absl::Status& error) {
  return FromIoFailure(verify::FailureOf(verify::IoOperation::kStep, path, 0, 0, error));
}

void Activity::Merge(const Activity& other) {
  blocks_written += other.blocks_written;
  bytes_written += other.bytes_written;
  blocks_verified += other.blocks_verified;
  bytes_verified += other.bytes_verified;
  entries_changed += other.entries_changed;
  entries_verified += other.entries_verified;
  io_errors += other.io_errors;
  findings += other.findings;
  read_latency.Merge(other.read_latency);
  passes_completed += other.passes_completed;
  state_records_damaged += other.state_records_damaged;
  state_records_changed += other.state_records_changed;
  blocks_newer_than_state += other.blocks_newer_than_state;
}

}  // namespace fscanary::checker
