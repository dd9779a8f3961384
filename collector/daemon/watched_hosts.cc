#include "collector/daemon/watched_hosts.h"

#include <algorithm>

namespace fscanary::collector {

uint32_t WhyWatched(const store::HostActivity& host, const SessionState* session, bool up,
                    int64_t now_unix_nanos, const WatchThresholds& thresholds) {
  uint32_t reasons = 0;
  if (host.last_corruption_received_unix_nanos > 0 ||
      std::any_of(
          host.findings_by_kind.begin(), host.findings_by_kind.end(),
          [](const auto& entry) { return store::IsCorruption(entry.first) && entry.second; })) {
    reasons |= kWatchFinding;
  }
  if (now_unix_nanos - host.last_seen_unix_nanos > thresholds.silent_after_nanos) {
    reasons |= kWatchSilent;
  }
  // A new host has verified nothing yet: it counts from when it was first seen.
  const int64_t verified_or_seen =
      std::max(host.last_verified_unix_nanos, host.first_seen_unix_nanos);
  if (up && now_unix_nanos - verified_or_seen > thresholds.unverified_after_nanos) {
    reasons |= kWatchVerificationStalled;
  }
  if (std::any_of(
          host.checkers.begin(), host.checkers.end(),
          [](const store::CheckerHealth& checker) { return checker.consecutive_failures > 0; })) {
    reasons |= kWatchCheckerFailing;
  }
  const v1::SpoolLoss& loss = host.spool_loss;
  if (loss.reports_summarised() + loss.reports_dropped() + loss.findings_dropped() +
          loss.damaged_records_skipped() >
      0) {
    reasons |= kWatchSpoolLoss;
  }
  if (session != nullptr && session->spooled_records > thresholds.spool_backlog_records) {
    reasons |= kWatchSpoolBacklog;
  }
  return reasons;
}

}  // namespace fscanary::collector
