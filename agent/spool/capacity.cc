// What the spool gives up, in order, when a record would not fit: nothing
// (garbage collection), then detail (summaries), then routine records, and a
// new finding last.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "agent/spool/spool.h"
#include "common/status.h"

namespace fscanary::spool {
namespace {

// Payload bytes handed to the Summarizer per call.
constexpr size_t kFoldBatchBytes = 1 << 20;
// Relocation may start up to two new segments; garbage smaller than their
// headers frees nothing.
constexpr uint64_t kRelocationOverhead = 2 * format::kSegmentHeaderBytes;

}  // namespace

absl::Status Spool::MakeRoom(uint64_t record_bytes, RecordClass record_class) {
  bool summarised = false;
  while (store_->DiskBytesAfterAppend(record_bytes) > options_.max_bytes) {
    const uint64_t excess = store_->DiskBytesAfterAppend(record_bytes) - options_.max_bytes;
    ASSIGN_OR_RETURN(const bool collected, CollectGarbage(excess));
    if (collected) continue;
    if (!summarised) {
      summarised = true;
      ASSIGN_OR_RETURN(const bool folded, SummariseRoutine());
      if (folded) continue;
    }
    ASSIGN_OR_RETURN(const bool dropped, DropOldestRoutine());
    if (dropped) continue;
    // Only findings are left (and records in flight that cannot be summarised).
    ++(record_class == RecordClass::kFinding ? state_.findings_dropped : state_.reports_dropped);
    RETURN_IF_ERROR(PersistCounters());
    return absl::ResourceExhaustedError(absl::StrCat(
        "spool ", options_.directory, " is full (", options_.max_bytes,
        " bytes of unacknowledged findings); a new ",
        record_class == RecordClass::kFinding ? "finding" : "routine record", " was dropped"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> Spool::CollectGarbage(uint64_t bytes_needed) {
  // The segment with the most garbage, if moving its survivors out is worth it:
  // it frees what is needed, or at least as much as it copies.
  std::optional<SegmentUsage> best;
  for (const SegmentUsage& usage : store_->Usage()) {
    const uint64_t garbage = usage.file_bytes - usage.live_bytes;
    if (garbage <= kRelocationOverhead) continue;
    if (garbage - kRelocationOverhead < bytes_needed && garbage < usage.live_bytes) continue;
    if (!best || garbage > best->file_bytes - best->live_bytes) best = usage;
  }
  if (!best) return false;
  if (best->active) {
    RETURN_IF_ERROR(store_->Roll());
    if (best->live_bytes == 0) return true;  // Roll() deleted it
  }
  std::vector<Location> originals;
  std::vector<Entry*> damaged;
  absl::Status status;
  for (Entries* entries : {&findings_, &routine_}) {
    for (Entry& entry : *entries) {
      if (!status.ok()) break;
      if (entry.removed || entry.location.segment != best->id) continue;
      absl::StatusOr<Location> moved = store_->Relocate(entry.location);
      if (IsDamage(moved.status())) {
        damaged.push_back(&entry);
      } else if (!moved.ok()) {
        status = moved.status();
      } else {
        originals.push_back(entry.location);
        entry.location = *moved;
      }
    }
  }
  // Copies of findings are durable before the originals may go.
  RETURN_IF_ERROR(store_->Sync());
  for (const Location& original : originals) status.Update(store_->Release(original));
  if (!damaged.empty()) {
    state_.damaged_records_skipped += damaged.size();
    status.Update(Remove(damaged, /*sync=*/false));
    status.Update(PersistCounters());
  }
  RETURN_IF_ERROR(status);
  return true;
}

absl::StatusOr<bool> Spool::SummariseRoutine() {
  // Records already handed to the sender may be stored at the collector by
  // now: folding them in would count them twice.
  std::vector<Entry*> candidates;
  for (Entry& entry : routine_) {
    if (!entry.removed && !entry.handed_out) candidates.push_back(&entry);
  }
  if (candidates.size() < 2) return false;

  std::vector<Record> batch;
  size_t batch_bytes = 0;
  bool folded_before = false;
  std::vector<Entry*> inputs;
  std::vector<Entry*> damaged;
  uint64_t represented = 0;
  uint64_t plain_reports = 0;
  for (Entry* entry : candidates) {
    absl::StatusOr<std::string> body = store_->ReadBody(entry->location);
    if (IsDamage(body.status())) {
      damaged.push_back(entry);
      continue;
    }
    if (!body.ok()) return body.status();
    body->erase(0, entry->payload_skip);
    batch_bytes += body->size();
    batch.push_back(
        {.sequence = entry->sequence, .record_class = RecordClass::kRoutine, .payload = *body});
    inputs.push_back(entry);
    represented += entry->represented;
    if (!entry->summary) ++plain_reports;
    if (batch_bytes >= kFoldBatchBytes && batch.size() >= 2) {
      // Fold what we have so that memory stays bounded; the result leads the next batch.
      Record folded{.sequence = batch.back().sequence,
                    .record_class = RecordClass::kRoutine,
                    .payload = summarizer_(batch)};
      batch.clear();
      batch_bytes = folded.payload.size();
      batch.push_back(std::move(folded));
      folded_before = true;
    }
  }
  if (!damaged.empty()) {
    state_.damaged_records_skipped += damaged.size();
    RETURN_IF_ERROR(Remove(damaged, /*sync=*/false));
    RETURN_IF_ERROR(PersistCounters());
  }
  if (inputs.size() < 2) return !damaged.empty();
  const std::string merged =
      batch.size() == 1 && folded_before ? std::move(batch.front().payload) : summarizer_(batch);

  // The sequences replaced, as ranges that may span removed records and
  // findings (a summary replaces routine records only) but never a live
  // routine record that was not folded in.
  format::SummaryPrefix prefix{
      .reports_represented = static_cast<uint32_t>(std::min<uint64_t>(represented, UINT32_MAX))};
  size_t next_input = 0;
  bool in_range = false;
  for (const Entry& entry : routine_) {
    if (next_input < inputs.size() && &entry == inputs[next_input]) {
      if (in_range) {
        prefix.replaces.back().second = entry.sequence;
      } else {
        prefix.replaces.emplace_back(entry.sequence, entry.sequence);
        in_range = true;
      }
      ++next_input;
    } else if (!entry.removed) {
      in_range = false;
    }
  }
  const std::string encoded_prefix = format::EncodeSummaryPrefix(prefix);
  if (format::RecordBytes(encoded_prefix.size() + merged.size()) > store_->max_record_bytes()) {
    return false;  // the summary would not fit in a segment: drop instead
  }
  ASSIGN_OR_RETURN(const uint64_t sequence, NextSequence());
  // The summary is durable before the originals' removal is logged: a crash in
  // between leaves both, and recovery applies the summary's ranges.
  RETURN_IF_ERROR(
      Write({.sequence = sequence, .represented = prefix.reports_represented, .summary = true},
            RecordClass::kRoutine, encoded_prefix, merged, /*sync=*/true));
  RETURN_IF_ERROR(Remove(inputs, /*sync=*/true));
  state_.reports_summarised += plain_reports;
  RETURN_IF_ERROR(PersistCounters());
  return true;
}

absl::StatusOr<bool> Spool::DropOldestRoutine() {
  auto oldest = FirstLiveAfter(routine_, 0);
  if (oldest == routine_.end()) return false;
  state_.reports_dropped += oldest->represented;
  RETURN_IF_ERROR(Remove({&*oldest}, /*sync=*/false));
  RETURN_IF_ERROR(PersistCounters());
  return true;
}

}  // namespace fscanary::spool
