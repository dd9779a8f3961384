#pragma once
// The spool's files: segment logs, their removal marks, the state file and the
// directory lock. It knows where records are and how many bytes of each
// segment are still live, and reclaims a sealed segment once nothing in it is;
// which records are live, and in what order they are sent, is the Spool's
// business (agent/spool/spool.h). Not thread-safe: the Spool serialises calls.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/spool/format.h"
#include "agent/spool/segment_reads.h"
#include "io/posix.h"

namespace fscanary::spool {

// Where one record lies.
struct Location {
  uint64_t segment = 0;
  uint32_t offset = 0;
  uint32_t body_length = 0;
  uint64_t bytes() const { return format::RecordBytes(body_length); }
};

struct RecoveredRecord {
  format::RecordHeader header;
  Location location;
  std::optional<format::SummaryPrefix> summary;
};

// What Open found on disk.
struct Recovery {
  // Every valid record, in segment order; a sequence may appear twice when a
  // crash interrupted a relocation.
  std::vector<RecoveredRecord> records;
  // Sequences marked removed, coalesced.
  format::SequenceRanges removed;
  // nullopt: the state file is missing or both of its slots are damaged.
  std::optional<format::StateSlot> state;
  // The directory held no spool file at all: a new spool.
  bool fresh = false;
  uint64_t damaged_records = 0;
  // Of those, the ones whose sequence is known (format::SegmentScan).
  std::vector<uint64_t> damaged_sequences;
  // Segments with damage: their survivors should be moved out so that the
  // damage is counted once and its bytes reclaimed.
  std::vector<uint64_t> damaged_segments;
  // Files in the directory that are not the spool's, left alone.
  uint64_t foreign_files = 0;
  // One line per noteworthy event (a truncated tail, a skipped file), naming the file.
  std::vector<std::string> notes;
};

struct SegmentUsage {
  uint64_t id = 0;
  uint64_t file_bytes = 0;
  uint64_t live_bytes = 0;
  bool active = false;
};

class SegmentStore {
 public:
  struct Opened;
  // Locks `directory` (created if missing) against a second process, reads
  // every segment and marks file, truncates a torn tail of the newest segment
  // and removes a segment whose creation was torn. Records recovered are not
  // yet live: the caller Adopt()s those it keeps, then calls ReclaimEmpty().
  // Fails only on an I/O error or when the directory is locked; damage is
  // reported in the Recovery, never an error. Records are read back later
  // through `reads`.
  static absl::StatusOr<Opened> Open(const std::string& directory, uint64_t segment_bytes,
                                     std::shared_ptr<SegmentReads> reads);
  ~SegmentStore();

  // Appends one encoded record (format::EncodeRecord), starting a new segment
  // when the active one has no room; with `sync` it is durable on return. New
  // records must not exceed max_record_bytes() (the Spool checks).
  absl::StatusOr<Location> Append(std::string_view record, bool sync);
  // Copies a live record to the active segment (not synced: call Sync()
  // before releasing the original). Damage (IsDamage) if the original is
  // damaged; the read's own error if it failed.
  absl::StatusOr<Location> Relocate(const Location& from);
  // The body of the record at `location`, its checksums verified: damage
  // (IsDamage) when they fail or the file ends early; the read's own error
  // (EIO, ENOMEM: worth retrying, never damage) when the read failed.
  absl::StatusOr<std::string> ReadBody(const Location& location) const;

  // Records sequences of `segment` as removed, so that they stay removed
  // after a restart. With `sync` the marks are durable on return.
  absl::Status Mark(uint64_t segment, const format::SequenceRanges& ranges, bool sync);
  // Counts a recovered record as live.
  void Adopt(const Location& location);
  // The record is no longer live; a sealed segment with nothing live left is
  // deleted (segment first, then its marks).
  absl::Status Release(const Location& location);
  absl::Status ReclaimEmpty();

  // Makes everything appended so far durable.
  absl::Status Sync();
  // Seals the active segment; the next append starts a new one.
  absl::Status Roll();
  // Persists `slot` (its generation is advanced) durably.
  absl::Status WriteState(format::StateSlot& slot);

  // Bytes of every segment and marks file.
  uint64_t disk_bytes() const { return disk_bytes_; }
  // disk_bytes() once a record of `record_bytes` is appended.
  uint64_t DiskBytesAfterAppend(uint64_t record_bytes) const;
  uint64_t unsynced_bytes() const { return unsynced_bytes_; }
  // Largest record a segment can take.
  uint64_t max_record_bytes() const { return segment_bytes_ - format::kSegmentHeaderBytes; }
  std::vector<SegmentUsage> Usage() const;

 private:
  struct Segment {
    std::string path;
    io::UniqueFd fd;
    uint64_t file_bytes = 0;
    uint64_t live_bytes = 0;
    uint64_t live_records = 0;
    std::string marks_path;
    io::UniqueFd marks_fd;
    uint64_t marks_bytes = 0;
  };

  SegmentStore(std::string directory, uint64_t segment_bytes, std::shared_ptr<SegmentReads> reads)
      : directory_(std::move(directory)), segment_bytes_(segment_bytes), reads_(std::move(reads)) {}
  // The whole encoded record at `location`, its checksums verified.
  absl::StatusOr<std::string> ReadRecord(const Location& location) const;
  // `existed`: the directory already held a spool's lock file.
  absl::StatusOr<Recovery> Recover(bool existed);
  // Reads one segment file into `recovery`; returns whether it is a segment.
  // `newest`: the newest segment with a valid header; `last_file`: the file
  // with the highest id, valid or not.
  absl::StatusOr<bool> RecoverSegment(uint64_t id, bool newest, bool last_file, Recovery& recovery);
  absl::Status StartSegment();
  absl::Status Reclaim(uint64_t id);
  std::string SegmentPath(uint64_t id) const;
  std::string MarksPath(uint64_t id) const;

  const std::string directory_;
  const uint64_t segment_bytes_;
  const std::shared_ptr<SegmentReads> reads_;
  io::UniqueFd lock_fd_;
  io::UniqueFd state_fd_;
  std::map<uint64_t, Segment> segments_;
  uint64_t active_ = 0;  // 0: none yet; the next append starts one
  uint64_t next_id_ = 1;
  uint64_t disk_bytes_ = 0;
  uint64_t unsynced_bytes_ = 0;
  bool state_entry_durable_ = false;
};

struct SegmentStore::Opened {
  std::unique_ptr<SegmentStore> store;
  Recovery recovery;
};

}  // namespace fscanary::spool
