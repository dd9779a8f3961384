#pragma once
// What every checker is to the agent: set up once on its target (by its own
// Open), then asked for a bounded step of work whenever it is due; each step
// returns its findings and counts what it did. A checker keeps its own durable
// state as it goes, except what may move only once its findings are durably
// spooled (CommitReported).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/verify/verify_pass.h"
#include "checkers/checker/finding.h"

namespace fscanary::checker {

// What one checker did since its activity was last taken.
struct Activity {
  uint64_t blocks_written = 0;
  uint64_t bytes_written = 0;
  uint64_t blocks_verified = 0;
  uint64_t bytes_verified = 0;
  // Metadata: entries created, changed or removed, and entries checked.
  uint64_t entries_changed = 0;
  uint64_t entries_verified = 0;
  uint64_t io_errors = 0;
  uint64_t findings = 0;
  verify::LatencyHistogram read_latency;
  // Full passes over the target (scrubs, tree walks) completed.
  uint64_t passes_completed = 0;
  // Trouble with the checker's own state (Finding::StateTrouble), each
  // record or block counted once.
  uint64_t state_records_damaged = 0;
  uint64_t state_records_changed = 0;
  uint64_t blocks_newer_than_state = 0;
  void Merge(const Activity& other);
};

// What the agent tells the collector about a checker's target.
struct TargetDescription {
  std::string path;
  // "file", "block_device" or "directory".
  std::string kind;
  uint64_t size_bytes = 0;
  uint32_t block_size = 0;
  // "io_uring", "psync", or "" where no engine is used.
  std::string engine;
  uint64_t target_id = 0;
};

// Not thread-safe: the agent's I/O thread owns its checkers.
class Checker {
 public:
  virtual ~Checker() = default;

  // "block", "page_cache", "metadata".
  virtual std::string_view name() const = 0;
  virtual TargetDescription Describe() const = 0;

  // When the next step is due (monotonic ns).
  virtual uint64_t next_due_ns() const = 0;
  // Does the work due at `now_ns` (monotonic), a bounded amount, within the
  // rate limiter the checker was given. An error means the target could not
  // be worked on this time; a corruption is a finding, never an error.
  virtual absl::StatusOr<std::vector<Finding>> Step(uint64_t now_ns) = 0;
  // The findings of the last Step() are durably spooled.
  virtual absl::Status CommitReported() { return absl::OkStatus(); }

  // Takes the counters accumulated since the last call.
  virtual Activity TakeActivity() = 0;

  // Adaptive verification: run the verification schedule (reads, not
  // writes) `factor` (>= 1) times faster from `now_ns` on; 1 restores the
  // configured schedule. Only the schedule: every step stays within the rate
  // limiter the checker was given. A checker without a schedule of its own
  // ignores it.
  virtual void SetBoost(double /*factor*/, uint64_t /*now_ns*/) {}
};

}  // namespace fscanary::checker
