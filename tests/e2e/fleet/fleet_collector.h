#pragma once
// The real fscanary-collector as a child process of the fleet tests: on fixed
// loopback ports (so agents find it again after a restart), SIGKILLed and
// restarted, its metrics scraped; on SQLite in its state directory or on a
// PostgreSQL database.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary::e2e {

using Clock = std::chrono::steady_clock;

// A loopback port nobody listens on now (the kernel does not hand it out
// again soon).
absl::StatusOr<int> FreePort();

// The value of `series` (its name and labels as the exposition prints them,
// e.g. `fscanary_collector_records_total{outcome="duplicate"}`) from the
// metrics endpoint on 127.0.0.1:`port`; nullopt if it cannot be read.
std::optional<double> ScrapeSeries(int port, std::string_view series);

// The last `bytes` of the file at `path`.
std::string Tail(const std::string& path, size_t bytes = 4000);

struct CollectorProcessOptions {
  // Config, log and state (collector/) go here.
  std::string dir;
  // Empty: SQLite in <dir>/collector/collector.db. Otherwise store.backend:
  // postgres with this libpq connection string.
  std::string postgres_dsn;
};

// fscanary-collector --config <dir>/collector.yaml, stdout and stderr appended
// to <dir>/collector.log (a pipe nobody reads would fill up and stall it).
// Killed and reaped on destruction; dies with this thread (PR_SET_PDEATHSIG).
// Not thread-safe.
class CollectorProcess {
 public:
  // Picks the ports and writes the config.
  static absl::StatusOr<CollectorProcess> Create(const CollectorProcessOptions& options);
  CollectorProcess(CollectorProcess&& other) noexcept;
  ~CollectorProcess();

  // Starts it and waits until it accepts connections.
  absl::Status Start(Clock::time_point deadline);
  // Sends `signal` and reaps it; the wait status.
  absl::StatusOr<int> Stop(int signal, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Nullopt while it runs; once it ended, its wait status (reaped). An
  // error if it was never started.
  absl::StatusOr<std::optional<int>> Ended();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const;
  const std::string& log() const { return log_; }
  const std::string& state_dir() const { return state_dir_; }

 private:
  CollectorProcess(std::string config, std::string log, std::string state_dir, int port,
                   int metrics_port);

  std::string config_;
  std::string log_;
  std::string state_dir_;
  int port_;
  int metrics_port_;
  pid_t pid_ = -1;
};

}  // namespace fscanary::e2e
