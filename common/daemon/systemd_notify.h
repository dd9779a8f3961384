#pragma once
// A daemon's side of systemd's Type=notify protocol: readiness, status text
// and watchdog pings. Does nothing when not started by systemd.

#include <cstdint>
#include <string>

namespace fscanary::daemon {

void NotifyReady(const std::string& status);
void NotifyReloading();
void NotifyStopping();
void NotifyStatus(const std::string& status);
void NotifyWatchdog();
// The watchdog interval systemd expects pings within, or 0 when it is off.
uint64_t WatchdogIntervalNanos();

}  // namespace fscanary::daemon
