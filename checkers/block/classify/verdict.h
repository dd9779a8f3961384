#pragma once
// What the read-back of one block showed: the finding kinds SREs are paged on,
// and the evidence each carries. Names are part of the JSON and wire formats.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace fscanary::block {

enum class Kind : uint8_t {
  kOk,
  kChecksumMismatch,  // identity intact, content wrong
  kMisdirectedWrite,  // a valid block, or sectors, that belong at another offset or target
  kLostWrite,         // a valid block of an older generation than the durable one, or
                      // zeros where the durable write was the block's first
  kTornWrite,         // sectors of two generations of this block (one older than durable)
  kZeroed,            // all zero where a durable block was, or zero sectors among right ones
  kForeignData,       // not fscanary's format, wholly or in sectors among right ones
  kIoError,           // the read failed (errno kept)
  kShortRead,         // the read returned fewer bytes than the block
};
std::string_view KindName(Kind kind);

// What one 512-byte sector of a block holds, relative to what was expected.
enum class SectorState : uint8_t {
  kNew,        // the durable generation, where it belongs
  kInFlight,   // the generation of a write in flight at the last crash
  kNewer,      // a generation above the durable one: an unacknowledged write
  kOld,        // an older generation of this very sector
  kMisplaced,  // a valid fscanary sector of another offset or sector index
  kDamaged,    // fscanary's stamp, but its checksum fails
  kZero,       // all zero bytes
  kForeign,    // not fscanary's: garbage, another target, or another format
};
std::string_view SectorStateName(SectorState state);

// Bytes [begin, end) of a block that differ from the expected content.
struct ByteRange {
  uint32_t begin = 0;
  uint32_t end = 0;
  friend bool operator==(const ByteRange&, const ByteRange&) = default;
};

struct Verdict {
  Kind kind = Kind::kOk;
  std::optional<uint64_t> found_generation;
  std::optional<uint64_t> found_offset;
  // Set when the block belongs to another fscanary target.
  std::optional<uint64_t> found_target_id;
  // One entry per sector, for torn writes and checksum mismatches.
  std::vector<SectorState> sectors;
  // Checksum mismatches: where the content differs (at most kMaxByteRanges;
  // `byte_ranges_truncated` says when there were more).
  std::vector<ByteRange> differing_bytes;
  bool byte_ranges_truncated = false;
  // kIoError: the errno; kShortRead: the bytes that were read.
  int error_number = 0;
  uint64_t bytes_read = 0;
  // Not a finding: the block carries a generation the state never recorded as
  // in flight (the state directory is older than the target, e.g. restored).
  bool newer_than_state = false;

  bool is_finding() const { return kind != Kind::kOk; }
};

inline constexpr size_t kMaxByteRanges = 64;

}  // namespace fscanary::block
