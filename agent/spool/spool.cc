#include "agent/spool/spool.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/spool/spool_files.h"
#include "common/status.h"
#include "io/directory_tree.h"
#include "io/posix.h"

namespace fscanary::spool {
namespace {

// Sequences reserved per write of the high-water mark.
constexpr uint64_t kSequenceBlock = 4096;

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(const SpoolOptions& options,
                                                   Summarizer summarizer) {
  if (options.directory.empty()) return absl::InvalidArgumentError("spool directory not set");
  if (options.segment_bytes < 4096 || options.segment_bytes > (1u << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat("spool segment size ", options.segment_bytes, " is not in [4 KiB, 1 GiB]"));
  }
  if (options.max_bytes < 2 * options.segment_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("spool size ", options.max_bytes,
                                                   " is less than two segments of ",
                                                   options.segment_bytes, " bytes"));
  }
  if (!summarizer) return absl::InvalidArgumentError("spool needs a summarizer");
  SpoolOptions effective = options;
  if (effective.reads == nullptr) effective.reads = PosixSegmentReads();
  ASSIGN_OR_RETURN(
      SegmentStore::Opened opened,
      SegmentStore::Open(effective.directory, effective.segment_bytes, effective.reads));
  std::unique_ptr<Spool> spool(
      new Spool(std::move(effective), std::move(summarizer), std::move(opened.store)));
  RETURN_IF_ERROR(spool->Recover(std::move(opened.recovery)));
  ASSIGN_OR_RETURN(spool->quarantined_, CountQuarantined(spool->QuarantineDirectory()));
  return spool;
}

Spool::~Spool() {
  std::lock_guard lock(mutex_);
  (void)store_->Sync();
}

absl::Status Spool::Recover(Recovery recovery) {
  notes_ = std::move(recovery.notes);
  foreign_files_ = recovery.foreign_files;
  std::stable_sort(recovery.records.begin(), recovery.records.end(),
                   [](const RecoveredRecord& a, const RecoveredRecord& b) {
                     return a.header.sequence < b.header.sequence;
                   });
  uint64_t max_sequence = 0;
  format::SequenceRanges superseded;
  for (const RecoveredRecord& record : recovery.records) {
    max_sequence = std::max(max_sequence, record.header.sequence);
    if (!record.summary) continue;
    for (auto [first, last] : record.summary->replaces) {
      superseded.emplace_back(first, std::min(last, record.header.sequence - 1));
    }
  }
  for (const auto& range : recovery.removed) max_sequence = std::max(max_sequence, range.second);
  superseded = format::Coalesce(std::move(superseded));

  // A summary whose originals were not yet marked when a crash came: mark them now.
  std::map<uint64_t, format::SequenceRanges> unmarked;
  uint64_t previous = 0;
  for (const RecoveredRecord& record : recovery.records) {
    const uint64_t sequence = record.header.sequence;
    if (sequence == previous) continue;  // a second copy left by an interrupted relocation
    previous = sequence;
    if (format::Contains(recovery.removed, sequence)) continue;
    const auto record_class = static_cast<RecordClass>(record.header.record_class);
    if (record_class == RecordClass::kRoutine && format::Contains(superseded, sequence)) {
      unmarked[record.location.segment].emplace_back(sequence, sequence);
      continue;
    }
    Entry entry{.sequence = sequence, .location = record.location, .record_class = record_class};
    if (record.summary) {
      entry.summary = true;
      entry.payload_skip = format::SummaryPrefixBytes(record.summary->replaces.size());
      entry.represented = record.summary->reports_represented;
    }
    EntriesOf(record_class).push_back(entry);
    ++(record_class == RecordClass::kFinding ? live_findings_ : live_routine_);
    live_bytes_ += record.location.bytes();
    store_->Adopt(record.location);
  }
  for (const auto& [segment, ranges] : unmarked) {
    RETURN_IF_ERROR(store_->Mark(segment, format::Coalesce(ranges), /*sync=*/true));
  }
  MoveOutOfDamagedSegments(recovery.damaged_segments);
  RETURN_IF_ERROR(store_->ReclaimEmpty());

  if (recovery.state) state_ = *recovery.state;
  next_sequence_ = std::max(state_.sequence_limit, max_sequence + 1);
  if (!recovery.state && !recovery.fresh) {
    // Sequences handed out before may be anywhere below the lost mark; the
    // clock in microseconds is beyond any of them, so none is used twice.
    next_sequence_ = std::max(next_sequence_, io::WallClockNanos() / 1000);
    notes_.push_back(
        absl::StrCat("sequence high-water mark lost; sequences continue from ", next_sequence_));
  }
  state_.sequence_limit = next_sequence_;
  // A damaged record marked removed was counted when a read met it.
  const uint64_t counted_before = std::ranges::count_if(
      recovery.damaged_sequences,
      [&](uint64_t sequence) { return format::Contains(recovery.removed, sequence); });
  const uint64_t new_damage = recovery.damaged_records - counted_before;
  state_.damaged_records_skipped += new_damage;
  if (new_damage > 0 || !recovery.state) RETURN_IF_ERROR(PersistCounters());
  return absl::OkStatus();
}

void Spool::MoveOutOfDamagedSegments(const std::vector<uint64_t>& damaged) {
  if (damaged.empty()) return;
  std::vector<Location> originals;
  absl::Status status;
  for (Entries* entries : {&findings_, &routine_}) {
    for (Entry& entry : *entries) {
      if (!status.ok()) break;
      if (std::ranges::count(damaged, entry.location.segment) == 0) continue;
      absl::StatusOr<Location> moved = store_->Relocate(entry.location);
      if (!moved.ok()) {
        status = moved.status();
        break;
      }
      originals.push_back(entry.location);
      entry.location = *moved;
    }
  }
  if (absl::Status synced = store_->Sync(); !synced.ok()) {
    // The copies are not durable: keep the originals too (a restart keeps one).
    notes_.push_back(absl::StrCat("moving records out of damaged segments: ", synced.message()));
    return;
  }
  for (const Location& original : originals) status.Update(store_->Release(original));
  if (!status.ok()) {
    notes_.push_back(absl::StrCat("moving records out of damaged segments: ", status.message()));
  }
}

Spool::Entries::iterator Spool::FirstLiveAfter(Entries& entries, uint64_t sequence) {
  auto it = std::upper_bound(entries.begin(), entries.end(), sequence,
                             [](uint64_t s, const Entry& entry) { return s < entry.sequence; });
  while (it != entries.end() && it->removed) ++it;
  return it;
}

bool Spool::HasRecordsAfter(const SendCursor& after) {
  return FirstLiveAfter(findings_, after.last_finding) != findings_.end() ||
         FirstLiveAfter(routine_, after.last_routine) != routine_.end();
}

absl::StatusOr<uint64_t> Spool::NextSequence() {
  if (next_sequence_ >= state_.sequence_limit) {
    format::StateSlot raised = state_;
    raised.sequence_limit = next_sequence_ + kSequenceBlock;
    RETURN_IF_ERROR(store_->WriteState(raised));
    state_ = raised;
  }
  return next_sequence_++;
}

absl::Status Spool::PersistCounters() { return store_->WriteState(state_); }

absl::Status Spool::Write(Entry entry, RecordClass record_class, std::string_view body_prefix,
                          std::string_view payload, bool sync) {
  const format::RecordHeader header{
      .sequence = entry.sequence,
      .record_class = static_cast<uint8_t>(record_class),
      .flags = entry.summary ? format::kFlagSummary : uint8_t{0},
  };
  ASSIGN_OR_RETURN(entry.location,
                   store_->Append(format::EncodeRecord(header, body_prefix, payload), sync));
  entry.payload_skip = static_cast<uint32_t>(body_prefix.size());
  entry.record_class = record_class;
  EntriesOf(record_class).push_back(entry);
  ++(record_class == RecordClass::kFinding ? live_findings_ : live_routine_);
  live_bytes_ += entry.location.bytes();
  return absl::OkStatus();
}

absl::Status Spool::Remove(const std::vector<Entry*>& entries, bool sync) {
  std::map<uint64_t, format::SequenceRanges> by_segment;
  for (const Entry* entry : entries) {
    by_segment[entry->location.segment].emplace_back(entry->sequence, entry->sequence);
  }
  // Marks first: a segment released below may be deleted.
  absl::Status status;
  for (auto& [segment, ranges] : by_segment) {
    status.Update(store_->Mark(segment, format::Coalesce(std::move(ranges)), sync));
  }
  for (Entry* entry : entries) {
    entry->removed = true;
    --(entry->record_class == RecordClass::kFinding ? live_findings_ : live_routine_);
    live_bytes_ -= entry->location.bytes();
    status.Update(store_->Release(entry->location));
  }
  TrimFront(findings_);
  TrimFront(routine_);
  return status;
}

void Spool::TrimFront(Entries& entries) {
  while (!entries.empty() && entries.front().removed) entries.pop_front();
}

absl::StatusOr<uint64_t> Spool::Append(RecordClass record_class, std::string_view payload) {
  uint64_t sequence;
  {
    std::lock_guard lock(mutex_);
    const uint64_t record_bytes = format::RecordBytes(payload.size());
    if (record_bytes > store_->max_record_bytes()) {
      return absl::InvalidArgumentError(
          absl::StrCat("a payload of ", payload.size(), " bytes does not fit in a spool segment"));
    }
    RETURN_IF_ERROR(MakeRoom(record_bytes, record_class));
    ASSIGN_OR_RETURN(sequence, NextSequence());
    const bool sync = record_class == RecordClass::kFinding ||
                      store_->unsynced_bytes() + record_bytes >= options_.routine_sync_bytes;
    RETURN_IF_ERROR(Write({.sequence = sequence}, record_class, "", payload, sync));
  }
  appended_.notify_all();
  return sequence;
}

std::vector<Record> Spool::Pending(size_t max_records, const SendCursor& after) {
  std::lock_guard lock(mutex_);
  std::vector<Record> records;
  std::vector<Entry*> damaged;
  for (const RecordClass record_class : {RecordClass::kFinding, RecordClass::kRoutine}) {
    Entries& entries = EntriesOf(record_class);
    auto it = FirstLiveAfter(
        entries, record_class == RecordClass::kFinding ? after.last_finding : after.last_routine);
    for (; it != entries.end() && records.size() < max_records; ++it) {
      if (it->removed) continue;
      absl::StatusOr<std::string> body = store_->ReadBody(it->location);
      if (IsDamage(body.status())) {
        // Bytes that changed on disk since they were written: skip, count, go on.
        damaged.push_back(&*it);
        continue;
      }
      if (!body.ok()) {
        // The read failed, the record may be fine: keep it, and keep its
        // class in order (the cursor must not pass it), until a later try.
        ++read_errors_;
        last_read_error_ = std::string(body.status().message());
        reads_retry_at_ =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.read_retry_ms);
        break;
      }
      body->erase(0, it->payload_skip);
      it->handed_out = true;
      records.push_back(
          {.sequence = it->sequence, .record_class = record_class, .payload = std::move(*body)});
    }
  }
  SkipDamaged(damaged);
  return records;
}

void Spool::SkipDamaged(const std::vector<Entry*>& damaged) {
  if (damaged.empty()) return;
  state_.damaged_records_skipped += damaged.size();
  // Best effort: an unlogged removal only means the damage is met again.
  (void)Remove(damaged, /*sync=*/false);
  (void)PersistCounters();
}

bool Spool::WaitForRecords(const SendCursor& after,
                           std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  const uint64_t generation = wake_generation_;
  if (std::chrono::steady_clock::now() < reads_retry_at_) {
    // A read just failed: reading again at once would only spin.
    appended_.wait_until(lock, std::min(deadline, reads_retry_at_),
                         [&] { return wake_generation_ != generation; });
    return false;
  }
  appended_.wait_until(lock, deadline,
                       [&] { return wake_generation_ != generation || HasRecordsAfter(after); });
  return HasRecordsAfter(after);
}

void Spool::Wake() {
  {
    std::lock_guard lock(mutex_);
    ++wake_generation_;
  }
  appended_.notify_all();
}

std::vector<Spool::Entry*> Spool::HeldEntries(std::span<const SequenceRange> ranges) {
  std::vector<Entry*> held;
  for (const auto& [first, last] : ranges) {
    if (first > last) continue;
    for (Entries* entries : {&findings_, &routine_}) {
      auto it = std::lower_bound(entries->begin(), entries->end(), first,
                                 [](const Entry& entry, uint64_t s) { return entry.sequence < s; });
      for (; it != entries->end() && it->sequence <= last; ++it) {
        if (!it->removed) held.push_back(&*it);
      }
    }
  }
  // Overlapping ranges may name a record twice.
  std::ranges::sort(held);
  held.erase(std::unique(held.begin(), held.end()), held.end());
  return held;
}

absl::Status Spool::Acknowledge(std::span<const SequenceRange> ranges) {
  std::lock_guard lock(mutex_);
  return Remove(HeldEntries(ranges), /*sync=*/false);
}

std::string Spool::QuarantineDirectory() const {
  return options_.directory + "/" + std::string(format::kQuarantineDirectory);
}

absl::StatusOr<uint64_t> Spool::Quarantine(std::span<const SequenceRange> ranges,
                                           std::string_view why) {
  std::lock_guard lock(mutex_);
  const std::vector<Entry*> held = HeldEntries(ranges);
  if (held.empty()) return 0;
  const std::string directory = QuarantineDirectory();
  RETURN_IF_ERROR(io::MakePrivateDirectory(directory));
  std::vector<Entry*> moved;
  std::vector<Entry*> damaged;
  absl::Status status;
  for (Entry* entry : held) {
    absl::StatusOr<std::string> body = store_->ReadBody(entry->location);
    if (IsDamage(body.status())) {
      damaged.push_back(entry);
      continue;
    }
    status = body.status();
    if (!status.ok()) break;
    body->erase(0, entry->payload_skip);
    const std::string stem = absl::StrFormat("%s/%016x", directory, entry->sequence);
    status = io::ReplaceFileDurably(stem + ".why", std::as_bytes(std::span(why)));
    if (status.ok()) {
      status = io::ReplaceFileDurably(stem + ".record", std::as_bytes(std::span(*body)));
    }
    if (!status.ok()) break;
    moved.push_back(entry);
  }
  SkipDamaged(damaged);
  // Durable in the quarantine before the removal is: a crash in between
  // leaves the record in both places, never in neither.
  if (!moved.empty()) status.Update(Remove(moved, /*sync=*/true));
  quarantined_ += moved.size();
  RETURN_IF_ERROR(status);
  return moved.size();
}

absl::Status Spool::Sync() {
  std::lock_guard lock(mutex_);
  return store_->Sync();
}

SpoolStats Spool::Stats() const {
  std::lock_guard lock(mutex_);
  return {.records = live_findings_ + live_routine_,
          .bytes = live_bytes_,
          .findings = live_findings_,
          .routine = live_routine_,
          .reports_summarised = state_.reports_summarised,
          .reports_dropped = state_.reports_dropped,
          .findings_dropped = state_.findings_dropped,
          .damaged_records_skipped = state_.damaged_records_skipped,
          .foreign_files_skipped = foreign_files_,
          .read_errors = read_errors_,
          .last_read_error = last_read_error_,
          .quarantined_records = quarantined_,
          .next_sequence = next_sequence_,
          .disk_bytes = store_->disk_bytes()};
}

}  // namespace fscanary::spool
