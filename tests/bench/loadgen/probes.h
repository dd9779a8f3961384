#pragma once
// What the load generator reads of the collector from outside: a process's
// CPU time and memory (/proc), the database's size on disk, and a scrape of
// /metrics. Each call reads once; the caller takes differences.

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::loadgen {

struct ProcessSample {
  double cpu_seconds = 0;       // utime + stime
  uint64_t rss_bytes = 0;       // VmRSS
  uint64_t peak_rss_bytes = 0;  // VmHWM
  uint64_t threads = 0;
};

// NotFound when the process is gone.
absl::StatusOr<ProcessSample> SampleProcess(pid_t pid);

// Bytes of the SQLite database `path` with its -wal and -shm files (absent
// ones count 0).
uint64_t DatabaseBytes(const std::string& path);

struct Scrape {
  uint64_t bytes = 0;
  double seconds = 0;
  uint64_t series = 0;  // lines that are not comments
};

// GET http://<address>/metrics, `address` a loopback host:port.
absl::StatusOr<Scrape> ScrapeMetrics(const std::string& address);

// The value at quantile `q` (0..1) of `values` (sorted in place); 0 if empty.
double Quantile(std::vector<uint32_t>& values, double q);

}  // namespace fscanary::loadgen
