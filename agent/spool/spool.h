#pragma once
// The agent's on-disk spool: every record the collector has not acknowledged
// yet, bounded in size and crash-safe. Generic over bytes (the agent stores
// serialised fscanary.v1.AgentMessage bodies; this module knows no protobuf).
//
// Contract:
// - Sequences are strictly increasing over the spool's whole life, across
//   restarts and even after every record was acknowledged (a high-water mark
//   is persisted before sequences are handed out, in blocks of 4096, so a
//   restart may skip some). They start at 1.
// - A finding is durable (fdatasync) before Append returns. Routine records
//   are written at once (a crash of the process loses none) and become
//   durable against power loss at the next finding, the next segment switch,
//   Sync(), or once `routine_sync_bytes` of them are unsynced.
// - Send order: every finding by sequence, then every routine record by
//   sequence. A finding appended while routine records are being sent comes
//   next.
// - Acknowledged records never come back: their removal is logged, and a
//   segment is deleted only when nothing in it is live. A crash may undo the
//   last acknowledgements (not fsynced), so such records are sent again:
//   delivery is at least once, the collector de-duplicates by sequence.
// - Full (max_bytes): first the bytes of removed records are reclaimed
//   (survivors copied out of mostly-empty segments), then the routine records
//   not yet handed to the sender are folded into one by the Summarizer
//   (reports_summarised), then the oldest routine records are dropped
//   (reports_dropped), and only when no routine record is left is a new
//   finding refused (findings_dropped, ResourceExhausted). Findings already
//   queued are never dropped: Append returning OK is a promise, and the first
//   findings of an incident carry its onset. A routine record that cannot fit
//   (the spool holds only findings) is refused the same way (reports_dropped).
// - A record that cannot be read back (EIO, ENOMEM) is not damage: Pending
//   stops before it, nothing is removed, and WaitForRecords holds the sender
//   back for `read_retry_ms` before the read is tried again (read_errors).
//   Damage found on reading (checksums, framing) is skipped and counted
//   (damaged_records_skipped), and the records after it are sent.
// - A record the collector rejected (Quarantine) is moved to the
//   `quarantine/` directory of the spool, where the operator finds it, and
//   is never sent again (quarantined_records).
// - Damage found at Open (checksum failures) is skipped and counted
//   (damaged_records_skipped); the survivors of a damaged segment are copied
//   out and the segment deleted, so each damage is counted once. A torn tail
//   (an append cut short by a crash) is truncated silently: its Append never
//   returned. Files in the directory that are not the spool's are left alone
//   and counted (foreign_files_skipped), each named in recovery_notes().
// The on-disk format is specified in docs/SPOOL.md and agent/spool/format.h.
//
// Thread-safety: every method may be called from any thread; one mutex
// serialises them (a finding's Append holds it across its fdatasync). The
// Summarizer runs under that mutex and must not call back into the spool.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/spool/segment_store.h"

namespace fscanary::spool {

enum class RecordClass : uint8_t { kFinding = 0, kRoutine = 1 };

struct Record {
  uint64_t sequence = 0;
  RecordClass record_class = RecordClass::kRoutine;
  std::string payload;
};

struct SpoolOptions {
  std::string directory;
  // Bound on the spool's files. At least two segments.
  uint64_t max_bytes = 64 << 20;
  // Size of one segment file, between 4 KiB and 1 GiB; a payload may be up to
  // this minus 72 bytes.
  uint64_t segment_bytes = 4 << 20;
  // Unsynced routine bytes after which an Append makes them durable.
  uint64_t routine_sync_bytes = 1 << 20;
  // After a read of a record failed (EIO, ENOMEM), WaitForRecords waits this
  // long before the record is read again.
  int read_retry_ms = 1'000;
  // How records are read back after Open; nullptr: pread (PosixSegmentReads).
  std::shared_ptr<SegmentReads> reads;
};

// Folds routine payloads, given in sequence order, into one (the agent sums
// interval reports). It must be associative: the spool folds in batches, and
// the first input may be the result of an earlier call.
using Summarizer = std::function<std::string(std::span<const Record> routine)>;

struct SpoolStats {
  // Unacknowledged records held, and the bytes they occupy on disk.
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t findings = 0;
  uint64_t routine = 0;
  // Loss counters, cumulative over the spool's life (persisted). A dropped
  // summary counts every report it represented.
  uint64_t reports_summarised = 0;
  uint64_t reports_dropped = 0;
  uint64_t findings_dropped = 0;
  uint64_t damaged_records_skipped = 0;
  // Files in the directory that are not the spool's (at Open).
  uint64_t foreign_files_skipped = 0;
  // Reads of a record that failed (and will be retried), since Open, and
  // the last one's error.
  uint64_t read_errors = 0;
  std::string last_read_error;
  // Records in the quarantine directory (rejected by the collector).
  uint64_t quarantined_records = 0;
  // The sequence the next Append gets.
  uint64_t next_sequence = 0;
  // Bytes of the spool's files (removed records included until reclaimed).
  uint64_t disk_bytes = 0;
};

// Where a sender is on its current stream: the last finding and the last
// routine record it has been given. A new stream starts from {}, so every
// record not acknowledged by then is sent again.
struct SendCursor {
  uint64_t last_finding = 0;
  uint64_t last_routine = 0;
  void Advance(const Record& record) {
    (record.record_class == RecordClass::kFinding ? last_finding : last_routine) = record.sequence;
  }
};

// [first, last], inclusive.
using SequenceRange = std::pair<uint64_t, uint64_t>;

class Spool {
 public:
  // Opens (creating if needed) and recovers the spool in options.directory,
  // which it locks against a second process (FailedPrecondition names it).
  // Damage never makes it fail; I/O errors and bad options do.
  static absl::StatusOr<std::unique_ptr<Spool>> Open(const SpoolOptions& options,
                                                     Summarizer summarizer);
  // Makes routine records durable.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Assigns the next sequence and appends. ResourceExhausted when the record
  // is refused because the spool is full (counted), InvalidArgument when the
  // payload cannot fit in a segment.
  absl::StatusOr<uint64_t> Append(RecordClass record_class, std::string_view payload);

  // Up to `max_records` unacknowledged records after `after`, in send order
  // (findings by sequence, then routine by sequence). A record whose bytes
  // turn out damaged on reading is removed and counted, never returned; a
  // record whose read fails (EIO) ends the list before it and stays.
  // Typical sender loop, per stream:
  //   SendCursor cursor;
  //   for (const Record& r : spool.Pending(window, cursor)) { send(r); cursor.Advance(r); }
  // Pending(n) with the default cursor lists from the start (the sender then
  // skips what is in flight).
  std::vector<Record> Pending(size_t max_records, const SendCursor& after = {});
  // Blocks until Pending(1, after) would return a record, Wake() is called,
  // or `deadline`; returns whether there is a record. No polling: after a
  // failed read it waits for read_retry_ms (or Wake) and returns false.
  bool WaitForRecords(const SendCursor& after, std::chrono::steady_clock::time_point deadline);
  // Releases every WaitForRecords in progress (for shutdown, or when the
  // sender's window opened).
  void Wake();

  // Removes acknowledged records; sequences not held (acknowledged twice,
  // dropped, never appended) are ignored. An error means the removal could not
  // be logged: the records are removed here but may be sent again after a
  // restart.
  absl::Status Acknowledge(std::span<const SequenceRange> ranges);
  absl::Status Acknowledge(std::initializer_list<SequenceRange> ranges) {
    return Acknowledge(std::span<const SequenceRange>(ranges.begin(), ranges.size()));
  }

  // Moves the records in `ranges` that are held to the quarantine directory:
  // each one's payload is written to `quarantine/<sequence, 16 hex
  // digits>.record` and `why` to `<sequence>.why` (mode 0600, directory 0700),
  // made durable, and only then is the record removed. Returns how many were
  // moved; sequences not held are ignored. On an error the record stays
  // spooled (it is sent again, and rejected again).
  absl::StatusOr<uint64_t> Quarantine(std::span<const SequenceRange> ranges, std::string_view why);
  absl::StatusOr<uint64_t> Quarantine(std::initializer_list<SequenceRange> ranges,
                                      std::string_view why) {
    return Quarantine(std::span<const SequenceRange>(ranges.begin(), ranges.size()), why);
  }

  // Makes every appended record durable (at shutdown, say).
  absl::Status Sync();

  SpoolStats Stats() const;
  // What recovery at Open found worth a log line (damage, torn tails, foreign
  // files), each naming its file. Fixed after Open.
  const std::vector<std::string>& recovery_notes() const { return notes_; }

 private:
  // One unacknowledged record; the payload stays on disk.
  // 40 bytes: the index of a full 64 MiB spool of small reports stays a few MiB.
  struct Entry {
    uint64_t sequence = 0;
    Location location;
    uint32_t payload_skip = 0;  // summary prefix before the payload
    uint32_t represented = 1;   // reports a summary stands for; 1 otherwise
    RecordClass record_class = RecordClass::kRoutine;
    bool summary = false;
    bool handed_out = false;  // given to the sender since Open: never summarised
    bool removed = false;
  };
  using Entries = std::deque<Entry>;  // by sequence, removed ones trimmed from the front

  Spool(SpoolOptions options, Summarizer summarizer, std::unique_ptr<SegmentStore> store)
      : options_(std::move(options)),
        summarizer_(std::move(summarizer)),
        store_(std::move(store)) {}
  absl::Status Recover(Recovery recovery);
  // Best effort: on failure the records stay where they are (and are noted).
  void MoveOutOfDamagedSegments(const std::vector<uint64_t>& damaged);

  Entries& EntriesOf(RecordClass record_class) {
    return record_class == RecordClass::kFinding ? findings_ : routine_;
  }
  static Entries::iterator FirstLiveAfter(Entries& entries, uint64_t sequence);
  bool HasRecordsAfter(const SendCursor& after);
  std::string QuarantineDirectory() const;
  // The live entries whose sequence is in `ranges`, each once.
  std::vector<Entry*> HeldEntries(std::span<const SequenceRange> ranges);
  // Removes damaged entries found on reading and counts them.
  void SkipDamaged(const std::vector<Entry*>& damaged);
  // A new sequence, its high-water mark persisted first.
  absl::StatusOr<uint64_t> NextSequence();
  // Appends an encoded record for `entry` (sequence, flags set) and indexes it.
  absl::Status Write(Entry entry, RecordClass record_class, std::string_view body_prefix,
                     std::string_view payload, bool sync);
  // Logs the removal of `entries` (of either class) and releases their bytes.
  absl::Status Remove(const std::vector<Entry*>& entries, bool sync);
  void TrimFront(Entries& entries);
  absl::Status PersistCounters();

  // Capacity (capacity.cc): makes room for one record or says why not.
  absl::Status MakeRoom(uint64_t record_bytes, RecordClass record_class);
  absl::StatusOr<bool> CollectGarbage(uint64_t bytes_needed);
  absl::StatusOr<bool> SummariseRoutine();
  absl::StatusOr<bool> DropOldestRoutine();

  const SpoolOptions options_;
  const Summarizer summarizer_;
  std::vector<std::string> notes_;

  mutable std::mutex mutex_;
  std::condition_variable appended_;
  uint64_t wake_generation_ = 0;
  std::unique_ptr<SegmentStore> store_;
  Entries findings_;
  Entries routine_;
  uint64_t live_findings_ = 0;
  uint64_t live_routine_ = 0;
  uint64_t live_bytes_ = 0;
  uint64_t next_sequence_ = 1;
  format::StateSlot state_;  // sequence high-water mark and loss counters
  uint64_t foreign_files_ = 0;
  uint64_t read_errors_ = 0;
  std::string last_read_error_;
  uint64_t quarantined_ = 0;
  // Reads wait until then after one failed (steady clock).
  std::chrono::steady_clock::time_point reads_retry_at_{};
};

}  // namespace fscanary::spool
