#pragma once
// The kernel log watcher as one of the agent's checkers: each step reads what
// the kernel logged since the last one; the cursor moves only once those
// findings are spooled (CommitReported). Until then every step hands the same
// findings over again, so none is lost; one spooled just before a crash, or
// beside another that failed to spool, is sent again (at least once).

#include <memory>

#include "checkers/checker/checker.h"
#include "checkers/kmsg/kmsg_watcher.h"

namespace fscanary::kmsg {

class KernelLogChecker final : public checker::Checker {
 public:
  // `poll_interval_ns`: how often the log is read; a logged error reaches the
  // spool within about this long.
  KernelLogChecker(std::unique_ptr<KernelLogWatcher> watcher, uint64_t poll_interval_ns);

  std::string_view name() const override { return "kernel_log"; }
  checker::TargetDescription Describe() const override;
  uint64_t next_due_ns() const override { return next_due_ns_; }
  absl::StatusOr<std::vector<checker::Finding>> Step(uint64_t now_ns) override;
  absl::Status CommitReported() override;
  checker::Activity TakeActivity() override;

  const KernelLogWatcher& watcher() const { return *watcher_; }

 private:
  std::unique_ptr<KernelLogWatcher> watcher_;
  uint64_t poll_interval_ns_;
  uint64_t next_due_ns_ = 0;
  uint64_t lines_read_taken_ = 0;
  // Findings of the last step not yet confirmed spooled.
  std::vector<checker::Finding> unconfirmed_;
  checker::Activity activity_;
};

}  // namespace fscanary::kmsg
