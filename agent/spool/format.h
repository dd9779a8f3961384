#pragma once
// The spool's on-disk encodings (format version 1), as pure functions over
// bytes: segment headers, records, removal marks and the state file's slots.
// No I/O here, so every corruption case is tested with hand-built buffers.
// The prose specification is docs/SPOOL.md; a change to one changes both.
//
// All integers are little-endian; checksums are XXH3-64 (xxHash 0.8).
//
// Segment file `seg-<16 hex digits>.log`: a 32-byte header, then records
// back to back, each starting at a multiple of 8.
//   header: [0,8) "FSCSPOOL" | [8,12) version 1 | [12,16) 0 | [16,24) segment id
//           | [24,32) XXH3 of [0,24)
//   record: [0,4) magic "FSCR" | [4,8) body length | [8,16) sequence
//           | [16] class (0 finding, 1 routine) | [17] flags | [18,20) 0
//           | [20,24) low 32 bits of XXH3 of [0,20)        (header checksum)
//           | body, zero padding to a multiple of 8 | XXH3 of everything before (8 bytes)
//   A body with the summary flag begins with [u32 range count][u32 reports
//   represented][count x (u64 first, u64 last)]: the routine records it
//   replaces; the payload follows.
// Marks file `seg-<id>.marks`: records [magic "FSCM"][u32 count][count x
//   (u64 first, u64 last)][XXH3 of the preceding bytes]: sequences removed
//   (acknowledged, dropped or summarised) from the segment of the same id.
// State file `state`: two 512-byte slots; the valid one with the higher
//   generation wins (see StateSlot).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fscanary::spool::format {

using Bytes = std::span<const std::byte>;
// [first, last], inclusive.
using SequenceRanges = std::vector<std::pair<uint64_t, uint64_t>>;

inline constexpr uint32_t kVersion = 1;
// The subdirectory of the spool's directory that holds records the collector
// rejected: `<sequence, 16 hex digits>.record` (the payload) and `.why`.
inline constexpr std::string_view kQuarantineDirectory = "quarantine";
inline constexpr size_t kSegmentHeaderBytes = 32;
inline constexpr size_t kRecordHeaderBytes = 24;
inline constexpr size_t kRecordChecksumBytes = 8;
inline constexpr uint8_t kFlagSummary = 1;
// No record body may be larger; a header claiming more is damaged.
inline constexpr uint32_t kMaxBodyBytes = 1u << 30;

std::string EncodeSegmentHeader(uint64_t segment_id);
// The segment id, or nullopt when `file` does not start with a valid header.
std::optional<uint64_t> ParseSegmentHeader(Bytes file);

// Bytes a record with a body of `body_length` bytes occupies on disk.
constexpr uint64_t RecordBytes(uint64_t body_length) {
  return kRecordHeaderBytes + ((body_length + 7) & ~uint64_t{7}) + kRecordChecksumBytes;
}

struct RecordHeader {
  uint64_t sequence = 0;
  uint8_t record_class = 0;
  uint8_t flags = 0;
  uint32_t body_length = 0;
};

// The prefix of a summary record's body.
struct SummaryPrefix {
  SequenceRanges replaces;
  uint32_t reports_represented = 0;
};
std::string EncodeSummaryPrefix(const SummaryPrefix& prefix);
// nullopt when the body is too short for the prefix it announces.
std::optional<SummaryPrefix> ParseSummaryPrefix(Bytes body);
// Bytes of a summary prefix with `ranges` ranges.
constexpr size_t SummaryPrefixBytes(size_t ranges) { return 8 + 16 * ranges; }

// A whole record: header, `body_prefix` then `payload` as the body, padding, checksum.
std::string EncodeRecord(const RecordHeader& header, std::string_view body_prefix,
                         std::string_view payload);

// The header of `record` (exactly one encoded record), if both of its
// checksums hold.
std::optional<RecordHeader> ParseRecord(Bytes record);

// One record found by ScanSegment.
struct ScannedRecord {
  RecordHeader header;
  uint64_t offset = 0;  // from the start of the file
};

struct SegmentScan {
  std::vector<ScannedRecord> records;
  // Records (or runs of bytes with no readable record header) that failed
  // their checksums and were skipped.
  uint64_t damaged = 0;
  // The sequences of the damaged records whose header held (a body whose
  // checksum failed): one the spool already counted and removed while
  // running is not counted again.
  std::vector<uint64_t> damaged_sequences;
  // End of the last byte that belongs to a valid or counted-damaged record:
  // where a torn tail begins (equal to the file size when there is none).
  uint64_t valid_end = 0;
};

// Reads the records of a segment file from `start` on (kSegmentHeaderBytes
// normally). A record whose header checksum fails is skipped by searching for
// the next valid header at a multiple of 8; one whose body checksum fails is
// skipped by its (checksummed) length. In the newest segment (`newest`), bytes
// after the last valid record that hold no complete record are a torn tail of
// an append that never returned: not counted, and `valid_end` says where to
// truncate. In an older segment, which was complete when the next one was
// started, such bytes are damage and are counted.
SegmentScan ScanSegment(Bytes file, uint64_t start, bool newest);

std::string EncodeMarks(const SequenceRanges& ranges);
struct MarksScan {
  SequenceRanges ranges;
  uint64_t valid_end = 0;  // after the last valid marks record
};
// Damaged marks records are skipped: their records are merely sent again.
MarksScan ScanMarks(Bytes file);

// The state file slot: the sequence high-water mark and the loss counters,
// which are cumulative over the spool's life.
struct StateSlot {
  uint64_t generation = 0;
  // Every sequence handed out so far is below this.
  uint64_t sequence_limit = 1;
  uint64_t reports_summarised = 0;
  uint64_t reports_dropped = 0;
  uint64_t findings_dropped = 0;
  uint64_t damaged_records_skipped = 0;
};
inline constexpr size_t kStateSlotBytes = 512;
inline constexpr size_t kStateFileBytes = 2 * kStateSlotBytes;
// A full 512-byte slot; it is written at offset (generation % 2) * 512.
std::string EncodeStateSlot(const StateSlot& slot);
// The valid slot with the higher generation, or nullopt when neither is valid.
std::optional<StateSlot> ParseStateFile(Bytes file);

// Sorts, merges overlapping and adjacent ranges.
SequenceRanges Coalesce(SequenceRanges ranges);
bool Contains(const SequenceRanges& coalesced, uint64_t sequence);

}  // namespace fscanary::spool::format
