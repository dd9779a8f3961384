#pragma once
// Where a daemon's log goes: the journal, with real priorities, when systemd
// started it (JOURNAL_STREAM is set); else stderr with timestamps.

#include <string>

namespace fscanary::daemon {

// `level` is an spdlog level name (trace, debug, info, warn, error, critical, off).
void SetUpLogging(const std::string& program, const std::string& level);

}  // namespace fscanary::daemon
