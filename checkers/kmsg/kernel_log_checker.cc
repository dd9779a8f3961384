#include "checkers/kmsg/kernel_log_checker.h"

#include <utility>

namespace fscanary::kmsg {

KernelLogChecker::KernelLogChecker(std::unique_ptr<KernelLogWatcher> watcher,
                                   uint64_t poll_interval_ns)
    : watcher_(std::move(watcher)), poll_interval_ns_(poll_interval_ns) {}

checker::TargetDescription KernelLogChecker::Describe() const {
  return {.path = "/dev/kmsg", .kind = "kernel_log"};
}

absl::StatusOr<std::vector<checker::Finding>> KernelLogChecker::Step(uint64_t now_ns) {
  next_due_ns_ = now_ns + poll_interval_ns_;
  // The last step's findings were not all spooled: the same again, before
  // anything newer, since the cursor can only move past them in order.
  if (!unconfirmed_.empty()) return unconfirmed_;
  // A storm is read in bounded polls: come back at once until caught up.
  absl::StatusOr<std::vector<KernelEvent>> events = watcher_->Poll();
  if (!events.ok()) return events.status();
  if (!watcher_->caught_up()) next_due_ns_ = now_ns;
  std::vector<checker::Finding> findings;
  for (KernelEvent& event : *events) {
    checker::Finding finding;
    finding.kind = checker::FindingKind::kKernelReported;
    // The kernel logged it: there is nothing to re-read.
    finding.persistent = true;
    finding.detail = event.message;
    finding.kernel = checker::Finding::KernelLine{.signature = std::move(event.signature),
                                                  .subsystem = std::move(event.subsystem),
                                                  .device = std::move(event.device),
                                                  .message = std::move(event.message),
                                                  .severity = event.severity,
                                                  .sequence = event.sequence,
                                                  .suppressed_before = event.suppressed_before};
    findings.push_back(std::move(finding));
  }
  activity_.findings += findings.size();
  activity_.entries_verified += watcher_->lines_read() - lines_read_taken_;
  lines_read_taken_ = watcher_->lines_read();
  unconfirmed_ = findings;
  return findings;
}

absl::Status KernelLogChecker::CommitReported() {
  unconfirmed_.clear();
  return watcher_->Commit();
}

checker::Activity KernelLogChecker::TakeActivity() { return std::exchange(activity_, {}); }

}  // namespace fscanary::kmsg
