#pragma once
// Which hosts keep per-host series (docs/METRICS.md, "Per-host series at
// fleet scale"): the ones an operator must see by name (a finding, silence, a
// checker that fails, a spool that loses or backs up records). Every other
// host is only counted by attributes, so the exposition follows findings and
// trouble, not the fleet's size. Pure: decided from what the store and the
// sessions say of the host.

#include <array>
#include <cstdint>
#include <string_view>

#include "collector/service/sessions.h"
#include "collector/store/store.h"

namespace fscanary::collector {

struct WatchThresholds {
  // Silent this long: its series appear well before FscanaryAgentSilent's
  // 600 s, so the alert's `for:` counts from when it would have before.
  int64_t silent_after_nanos = int64_t{120} * 1'000'000'000;
  // Connected, and nothing verified (since it was first seen) this long:
  // before FscanaryVerificationStalled's hour.
  int64_t unverified_after_nanos = int64_t{1800} * 1'000'000'000;
  // Records its agent holds unacknowledged: before
  // FscanarySpoolBacklogGrowing's 50, so deriv() has history.
  uint64_t spool_backlog_records = 10;
  // A fleet of at most this many hosts keeps every host's series (the cost
  // is bounded, and a small fleet's dashboards show every host).
  size_t all_hosts_up_to = 1000;
};

// Why a host is watched, as bits; 0: a clean host that reports.
enum WatchReason : uint32_t {
  kWatchFinding = 1u << 0,
  kWatchSilent = 1u << 1,
  kWatchVerificationStalled = 1u << 2,
  kWatchCheckerFailing = 1u << 3,
  kWatchSpoolLoss = 1u << 4,
  kWatchSpoolBacklog = 1u << 5,
  // Shown only because the fleet is small (all_hosts_up_to).
  kWatchSmallFleet = 1u << 6,
};

// The `reason` label values of fscanary_hosts_watched, bit by bit.
inline constexpr std::array<std::pair<WatchReason, std::string_view>, 7> kWatchReasonNames = {{
    {kWatchFinding, "finding"},
    {kWatchSilent, "silent"},
    {kWatchVerificationStalled, "verification_stalled"},
    {kWatchCheckerFailing, "checker_failing"},
    {kWatchSpoolLoss, "spool_loss"},
    {kWatchSpoolBacklog, "spool_backlog"},
    {kWatchSmallFleet, "small_fleet"},
}};

// The reasons `host` is watched at `now_unix_nanos` (collector clock);
// `session` is null when its agent has no stream to this collector. Never
// kWatchSmallFleet: that depends on the fleet, not the host.
uint32_t WhyWatched(const store::HostActivity& host, const SessionState* session, bool up,
                    int64_t now_unix_nanos, const WatchThresholds& thresholds);

}  // namespace fscanary::collector
