#include "checkers/kmsg/kmsg_watcher.h"

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "checkers/kmsg/kmsg_cursor.h"
#include "checkers/kmsg/kmsg_record.h"
#include "common/status.h"
#include "io/posix.h"
#include "spdlog/spdlog.h"

namespace fscanary::kmsg {

absl::StatusOr<std::unique_ptr<KernelLogWatcher>> KernelLogWatcher::Open(
    const WatcherOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<DevKmsgSource> source, DevKmsgSource::Open(options.kmsg_path));
  return Open(options, std::move(source));
}

absl::StatusOr<std::unique_ptr<KernelLogWatcher>> KernelLogWatcher::Open(
    const WatcherOptions& options, std::unique_ptr<KmsgSource> source) {
  if (options.state_path.empty()) {
    return absl::InvalidArgumentError("kernel log watcher: no state file given");
  }
  if (source == nullptr) return absl::InvalidArgumentError("kernel log watcher: no source");
  std::unique_ptr<KernelLogWatcher> watcher(new KernelLogWatcher(options, std::move(source)));
  RETURN_IF_ERROR(watcher->Start());
  return watcher;
}

absl::Status KernelLogWatcher::Start() {
  ASSIGN_OR_RETURN(boot_id_, ReadBootId(options_.boot_id_path));
  const std::filesystem::path directory = std::filesystem::path(options_.state_path).parent_path();
  if (!directory.empty()) RETURN_IF_ERROR(io::MakeDirectories(directory.string()));

  absl::StatusOr<KmsgCursor> cursor = LoadCursor(options_.state_path);
  if (cursor.ok() && cursor->boot_id == boot_id_) {
    start_point_ = StartPoint::kResumed;
    next_sequence_ = cursor->next_sequence;
    committed_sequence_ = cursor->next_sequence;
    state_current_ = true;
    start_note_ = absl::StrCat("resuming this boot's kernel log at record ", next_sequence_);
  } else if (cursor.ok()) {
    start_point_ = StartPoint::kNewBoot;
    start_note_ = absl::StrCat("new boot (the cursor was of boot ", cursor->boot_id,
                               "): reading the kernel log from its oldest record");
  } else if (absl::IsNotFound(cursor.status())) {
    start_point_ = StartPoint::kFresh;
    start_note_ = "no cursor yet: reading the kernel log from its oldest record";
  } else if (absl::IsDataLoss(cursor.status())) {
    // Re-reading this boot's backlog may report lines again; guessing a
    // position could lose them. Duplicates are the lesser harm.
    start_point_ = StartPoint::kDamagedState;
    start_note_ = absl::StrCat("cursor unusable (", cursor.status().message(),
                               "): reading the kernel log from its oldest record; lines of "
                               "this boot may be reported a second time");
  } else {
    return cursor.status();
  }
  return absl::OkStatus();
}

void KernelLogWatcher::Handle(const std::string& raw, std::vector<KernelEvent>& events) {
  absl::StatusOr<KmsgRecord> record = ParseKmsgRecord(raw);
  if (!record.ok()) {
    ++records_malformed_;
    return;
  }
  // Handled before a restart (or, should it ever happen, out of order).
  if (record->sequence < next_sequence_) return;
  lines_lost_ += record->sequence - next_sequence_;
  next_sequence_ = record->sequence + 1;
  ++lines_read_;

  if (options_.kernel_facility_only && record->facility != kFacilityKernel) return;
  std::optional<KernelEvent> event = Match(*record);
  if (!event) return;
  ++lines_matched_;
  if (!event->device.empty() && !Relevant(event->device)) return;
  const EventLimiter::Decision decision =
      limiter_.Admit(event->signature, event->device, record->timestamp_usec);
  if (!decision.report) return;
  event->suppressed_before = decision.suppressed_before;
  events.push_back(std::move(*event));
}

bool KernelLogWatcher::Relevant(const std::string& device) {
  if (options_.relevance == nullptr) return true;
  auto verdict = verdicts_.find(device);
  if (verdict == verdicts_.end()) {
    const Relevance relevance = options_.relevance->Judge(device);
    verdict = verdicts_.emplace(device, relevance.relevant).first;
    if (!relevance.relevant && !ignored_.contains(device)) {
      spdlog::info("kernel log: errors of {} are counted, not reported: {}", device,
                   relevance.reason);
    }
  }
  if (verdict->second) return true;
  ++lines_ignored_;
  ++ignored_[device];
  return false;
}

absl::StatusOr<std::vector<KernelEvent>> KernelLogWatcher::Poll() {
  if (!deferred_error_.ok()) return std::exchange(deferred_error_, absl::OkStatus());
  // Devices are judged again in each poll: mounts come and go.
  verdicts_.clear();
  std::vector<KernelEvent> events;
  caught_up_ = false;
  for (size_t records = 0; records < options_.max_records_per_poll;) {
    absl::StatusOr<KmsgRead> read = source_->Next();
    if (!read.ok()) {
      // The events read so far are handled in memory already: hand them over
      // now, or a later Commit() would move the cursor past them unreported.
      if (events.empty()) return read.status();
      deferred_error_ = read.status();
      return events;
    }
    if (read->outcome == ReadOutcome::kCaughtUp) {
      caught_up_ = true;
      break;
    }
    // An overrun shows as a gap in the sequence numbers, counted as lost.
    if (read->outcome == ReadOutcome::kOverrun) continue;
    ++records;
    Handle(read->record, events);
  }
  return events;
}

absl::StatusOr<bool> KernelLogWatcher::WaitForRecords(std::chrono::milliseconds timeout) {
  return source_->Wait(timeout);
}

absl::Status KernelLogWatcher::Commit() {
  if (state_current_ && committed_sequence_ == next_sequence_) return absl::OkStatus();
  RETURN_IF_ERROR(StoreCursor(options_.state_path,
                              KmsgCursor{.boot_id = boot_id_, .next_sequence = next_sequence_}));
  committed_sequence_ = next_sequence_;
  state_current_ = true;
  return absl::OkStatus();
}

}  // namespace fscanary::kmsg
