#pragma once
// One turn over the agent's checkers: steps those that are due, hands each
// finding not reported before to the spool, remembers the persistent ones as
// reported, lets a checker commit only when all its findings were spooled,
// and backs a failing checker off (1 s doubling to 5 min) instead of
// retrying it at every turn; the first failure of a run is spooled as an
// io_error finding (IO_CHECKER_STEP), the retries only logged.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>

#include "absl/status/status.h"
#include "agent/daemon/checker_set.h"
#include "agent/daemon/reported_findings.h"
#include "checkers/checker/finding.h"

namespace fscanary::daemon {

inline constexpr uint64_t kRetryFirstNs = 1'000'000'000;
// A failed step's message as the interval report carries it, at most.
inline constexpr size_t kMaxErrorBytes = 512;
inline constexpr uint64_t kRetryMaxNs = 300'000'000'000;

// Spools one finding of `active` durably (the daemon: message, log, metric).
using SpoolFinding =
    std::function<absl::Status(const ActiveChecker& active, const checker::Finding& finding)>;

// The monotonic clock, read before each checker (a step can take a while).
using MonotonicClock = std::function<uint64_t()>;

// Steps every checker of `checkers` that is due.
void StepDueCheckers(std::span<ActiveChecker> checkers, const MonotonicClock& clock,
                     ReportedFindings& reported, const SpoolFinding& spool);

// When the next of `checkers` is due, or a failing one may be retried.
uint64_t NextCheckerDueNs(std::span<const ActiveChecker> checkers);

}  // namespace fscanary::daemon
