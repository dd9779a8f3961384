#pragma once
// The standard process_* metrics of Prometheus client libraries (CPU time,
// memory, file descriptors, start time), read from /proc at scrape time.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "metrics/collectable.h"

namespace fscanary::metrics {

// What /proc/self/stat says about the process, in the units the kernel uses.
struct ProcStat {
  uint64_t user_ticks = 0;
  uint64_t system_ticks = 0;
  uint64_t start_ticks_after_boot = 0;
  uint64_t virtual_memory_bytes = 0;
  uint64_t resident_pages = 0;
};

// Parses the text of /proc/<pid>/stat; nullopt if it is not in that format.
// The command name (field 2) may hold spaces and parentheses, so fields are
// counted from its last ')'.
std::optional<ProcStat> ParseProcStat(std::string_view text);

// Collects process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds
// and process_max_fds for the calling process, with the names, types and
// units the Go client uses. A value that cannot be read is left out rather
// than reported as zero. Thread-safe.
class ProcessCollector final : public Collectable {
 public:
  std::vector<MetricFamily> Collect() const override;
};

}  // namespace fscanary::metrics
