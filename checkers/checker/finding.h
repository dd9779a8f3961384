#pragma once
// A finding of any checker, in one shape the agent spools and reports: the
// kind, whether it persisted, the block-format evidence or the path, and the
// key that makes a corruption reported once.

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "checkers/block/classify/verdict.h"
#include "checkers/block/verify/io_failure.h"
#include "checkers/block/verify/verify_pass.h"

namespace fscanary::checker {

// Numbered as block::Kind for the block kinds and as fscanary.v1.FindingKind
// throughout: the numbers are stored in the agent's reported-findings file.
enum class FindingKind : uint32_t {
  kChecksumMismatch = 1,
  kMisdirectedWrite = 2,
  kLostWrite = 3,
  kTornWrite = 4,
  kZeroed = 5,
  kForeignData = 6,
  kIoError = 7,
  kShortRead = 8,
  // The page cache and the device disagree about a block made durable.
  kPageCacheMismatch = 9,
  // A file, directory or link of the metadata tree is not as it was left.
  kMetadataMismatch = 10,
  kKernelReported = 11,
  // The checker's own state file is not what it wrote (records damaged or
  // lost), or blocks carry generations it never issued: the filesystem under
  // the state lost or garbled the agent's writes.
  kStateCorruption = 12,
};
FindingKind FromBlockKind(block::Kind kind);
// "checksum_mismatch", ..., "metadata_mismatch", "kernel_reported",
// "state_corruption".
std::string_view FindingKindName(FindingKind kind);

// One corruption as it was found: the same thing found the same way after the
// same write is the same finding; a new write of it, or another kind, is new.
// A key of kind 0 means none: the checker reports each finding once itself
// (the kernel log watcher's cursor).
struct FindingKey {
  // The target's id (its label, or the metadata tree's id).
  uint64_t target_id = 0;
  // A block's byte offset, or a hash of the path a metadata finding names.
  uint64_t offset = 0;
  // The generation written last (block), or of the manifest (metadata).
  uint64_t expected_generation = 0;
  uint32_t kind = 0;
  auto operator<=>(const FindingKey&) const = default;
};

struct Finding {
  FindingKind kind = FindingKind::kChecksumMismatch;
  // Every re-check showed it; false when a re-check came back right.
  bool persistent = false;
  // Block-format checkers (block, page_cache): the direct read's finding,
  // with offset, verdict, generations, re-reads and evidence directory.
  std::optional<verify::Finding> block;
  // page_cache: what the buffered read showed when it differed from the
  // direct read (then kind is kPageCacheMismatch).
  std::optional<block::Verdict> buffered;
  // metadata: the path under the checker's root, and what differs
  // ("size: expected 4096, found 0").
  std::string path;
  std::string detail;
  // kernel_log: the matched line.
  struct KernelLine {
    std::string signature;
    std::string subsystem;
    std::string device;
    std::string message;
    int severity = 0;
    uint64_t sequence = 0;
    // Similar lines the rate limiter withheld before this one.
    uint64_t suppressed_before = 0;
  };
  std::optional<KernelLine> kernel;
  // io_error of the checker's own I/O (a write, sync or state write that
  // failed): what failed, where, and the errno.
  std::optional<verify::IoFailure> io_failure;
  // state_corruption: what was counted in the window that crossed the
  // threshold, and the state file (`path`).
  struct StateTrouble {
    // Records damaged when the state was opened.
    uint64_t records_damaged = 0;
    // Records read back from the state file other than last written.
    uint64_t records_changed = 0;
    // Blocks carrying a generation above every one the state issued.
    uint64_t blocks_newer = 0;
    uint64_t total() const { return records_damaged + records_changed + blocks_newer; }
  };
  std::optional<StateTrouble> state_trouble;
  FindingKey key;
};

// The key of a block-format finding of `target_id`; a torn write is keyed as
// the lost write of its generation.
FindingKey BlockFindingKey(uint64_t target_id, const verify::Finding& block, FindingKind kind);

// A block-format finding of the block checker.
Finding FromBlockFinding(uint64_t target_id, verify::Finding block);

// The io_error finding of a failed operation of the checker's own. Not keyed:
// each failure is an event of its own, reported when it happens.
Finding FromIoFailure(verify::IoFailure failure);
// The io_error finding of a checker's step that failed as a whole, on the
// target at `path`.
Finding FromStepError(const std::string& path, const absl::Status& error);

}  // namespace fscanary::checker
