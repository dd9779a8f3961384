#include "agent/daemon/checker_steps.h"

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "common/utf8.h"
#include "spdlog/spdlog.h"

namespace fscanary::daemon {
namespace {

// A target that cannot be worked on is retried later, not at every turn of
// the loop: each attempt may write (a new round's marks). Whether the first
// failure of this run (the one that reaches the fleet).
bool RecordFailedStep(ActiveChecker& active, uint64_t now_ns, std::string_view message) {
  active.failures = std::min<uint32_t>(active.failures + 1, 16);
  ++active.failed_steps;
  // Valid UTF-8 without NUL, or the collector refuses the whole report.
  active.last_error = Utf8Text(message, kMaxErrorBytes);
  const uint64_t backoff = std::min<uint64_t>(kRetryFirstNs << (active.failures - 1), kRetryMaxNs);
  active.retry_at_ns = now_ns + backoff;
  spdlog::error("target {}: {} checker: {} (retrying in {} s)", active.target_name,
                active.checker->name(), std::string(message), backoff / 1'000'000'000);
  return active.failures == 1;
}

// A step that found something and then failed returns its findings with its
// failure among them, as an io_error of the step.
const checker::Finding* StepFailure(const std::vector<checker::Finding>& findings) {
  for (const checker::Finding& finding : findings) {
    if (finding.io_failure && finding.io_failure->operation == verify::IoOperation::kStep) {
      return &finding;
    }
  }
  return nullptr;
}

}  // namespace

void StepDueCheckers(std::span<ActiveChecker> checkers, const MonotonicClock& clock,
                     ReportedFindings& reported, const SpoolFinding& spool) {
  for (ActiveChecker& active : checkers) {
    checker::Checker& checker = *active.checker;
    const uint64_t now_ns = clock();
    if (now_ns < checker.next_due_ns() || now_ns < active.retry_at_ns) continue;
    absl::StatusOr<std::vector<checker::Finding>> findings = checker.Step(now_ns);
    if (!findings.ok()) {
      // The first failure of a run reaches the fleet, not only the log; the
      // retries that follow are logged.
      if (RecordFailedStep(active, now_ns, std::string(findings.status().message()))) {
        const checker::Finding failed =
            checker::FromStepError(checker.Describe().path, findings.status());
        if (absl::Status spooled = spool(active, failed); !spooled.ok()) {
          spdlog::error("could not spool a finding: {}", std::string(spooled.message()));
        }
      }
      continue;
    }
    // A step that failed after finding something is a failed step as well:
    // retried later, counted, and its failure reported once per run.
    const checker::Finding* step_failure = StepFailure(*findings);
    bool report_step_failure = true;
    if (step_failure != nullptr) {
      report_step_failure = RecordFailedStep(active, now_ns, step_failure->detail);
    } else {
      active.failures = 0;
      active.retry_at_ns = 0;
    }
    bool all_spooled = true;
    for (const checker::Finding& finding : *findings) {
      if (&finding == step_failure && !report_step_failure) continue;
      // Reported before: a persistent corruption read again by a later pass.
      const bool keyed = finding.key.kind != 0;
      if (keyed && reported.Contains(finding.key)) continue;
      if (absl::Status spooled = spool(active, finding); !spooled.ok()) {
        spdlog::error("could not spool a finding: {}", std::string(spooled.message()));
        all_spooled = false;
        continue;  // not reported: the next pass that finds it tries again
      }
      // Only a persistent corruption is the same finding when read again; a
      // transient one is an event of its own each time it is seen, and must
      // not hide a persistent one found later at the same place.
      if (!keyed || !finding.persistent) continue;
      if (absl::Status marked = reported.Add(finding.key); !marked.ok()) {
        spdlog::error("could not record a reported finding: {}", std::string(marked.message()));
      }
    }
    // Not all spooled: the checker hands the same findings over again (the
    // kernel log's cursor stays where it was).
    if (!all_spooled) continue;
    if (absl::Status committed = checker.CommitReported(); !committed.ok()) {
      spdlog::error("target {}: {} checker: {}", active.target_name, checker.name(),
                    std::string(committed.message()));
    }
  }
}

uint64_t NextCheckerDueNs(std::span<const ActiveChecker> checkers) {
  uint64_t next = std::numeric_limits<uint64_t>::max();
  for (const ActiveChecker& active : checkers) {
    next = std::min(next, std::max(active.checker->next_due_ns(), active.retry_at_ns));
  }
  return next;
}

}  // namespace fscanary::daemon
