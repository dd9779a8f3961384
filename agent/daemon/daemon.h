#pragma once
// fscanary-agent's daemon: runs the checkers of every target within the
// budget, turns findings and interval reports into spooled records, keeps the
// collector informed of the host's facts, and streams everything out.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/daemon/agent_metrics.h"
#include "agent/daemon/boost.h"
#include "agent/daemon/checker_set.h"
#include "agent/daemon/reported_findings.h"
#include "agent/transport/sender.h"
#include "checkers/kmsg/kernel_log_checker.h"
#include "fscanary/v1/facts.pb.h"
#include "io/rate_limiter.h"
#include "metrics/metrics_server.h"
#include "metrics/registry.h"

namespace fscanary::spool {
class Spool;
}
namespace fscanary::evidence {
class EvidenceStore;
}

namespace fscanary::daemon {

struct DaemonOptions {
  std::string agent_id;
  std::string state_dir;
  std::string spool_dir;
  uint64_t spool_max_bytes = 64ull << 20;
  // Bound of <state_dir>/evidence (checkers/evidence).
  uint64_t evidence_max_bytes = 64ull << 20;
  transport::SenderOptions sender;
  std::vector<TargetOptions> targets;
  io::RateLimiter::Limits budget;
  // Share of one core the agent may use (0: unlimited).
  double cpu_share = 0.01;
  bool idle_priority = true;
  // Adaptive verification: the most the collector's hints may speed the
  // schedule up by (1: hints ignored), and how long a hint holds unrenewed.
  double max_boost = 1;
  uint64_t boost_lapse_ns = 1'800'000'000'000;
  int report_interval_ms = 60'000;
  int facts_interval_ms = 300'000;
  // Hash of the effective configuration, sent in the Hello.
  std::string config_sha256;
  // The agent's own Prometheus endpoint (IPv4 address:port); empty: off.
  std::string metrics_listen;
  // Watch the kernel log for filesystem and block-layer errors.
  bool kernel_log = true;
  uint32_t kernel_log_events_per_minute = 10;
  // Only lines of facility kern (not written to /dev/kmsg by a process).
  bool kernel_log_kernel_lines_only = false;
  // Report errors of devices that hold neither a target nor a mounted
  // filesystem or swap area too (by default they are counted, not reported).
  bool kernel_log_report_unrelated_devices = false;
  std::string kmsg_path = "/dev/kmsg";
};

class Daemon {
 public:
  static absl::StatusOr<std::unique_ptr<Daemon>> Create(const DaemonOptions& options);
  ~Daemon();

  // Runs until RequestStop(): finishes the cycle in progress, sends a last
  // report to the spool, flushes state, and returns.
  absl::Status Run();
  // Thread-safe (not async-signal-safe): call from the signal-handling thread.
  void RequestStop();

  const DaemonOptions& options() const { return options_; }

 private:
  explicit Daemon(DaemonOptions options);
  absl::Status Initialize();
  v1::Hello BuildHello();
  absl::Status Spool(const v1::AgentMessage& message, bool urgent);
  absl::Status RefreshFacts();
  // Sleeps until `monotonic_ns` or RequestStop().
  void WaitUntil(uint64_t monotonic_ns);
  absl::Status Report(int64_t start_ns, int64_t end_ns);
  // Steps every checker that is due and spools its findings.
  void StepCheckers();
  void ReportSpoolLosses();
  // Keeps the agent within its CPU share.
  void Throttle();
  // Gives the checkers the boost in force now, when it changed.
  void ApplyBoost();

  DaemonOptions options_;
  io::RateLimiter limiter_;
  std::unique_ptr<spool::Spool> spool_;
  std::shared_ptr<evidence::EvidenceStore> evidence_;
  // Before sender_: the sender's reply thread offers hints to it until the
  // sender is destroyed.
  Boost boost_;
  double boost_applied_ = 1;
  std::unique_ptr<transport::Sender> sender_;
  std::vector<ActiveChecker> checkers_;
  // The kernel log checker among checkers_, if it runs.
  const kmsg::KernelLogChecker* kernel_log_ = nullptr;
  std::unique_ptr<ReportedFindings> reported_;
  std::shared_ptr<AgentMetrics> metrics_;
  std::shared_ptr<metrics::Registry> build_info_;
  std::unique_ptr<metrics::MetricsServer> metrics_server_;

  std::mutex facts_mutex_;
  v1::HostFacts facts_;
  uint64_t facts_fingerprint_ = 0;
  bool facts_known_ = false;

  std::mutex stop_mutex_;
  std::condition_variable stop_wake_;
  std::atomic<bool> stopping_{false};
  uint64_t losses_reported_ = 0;
  uint64_t cpu_window_start_ns_ = 0;
  uint64_t cpu_window_start_cpu_ = 0;
};

}  // namespace fscanary::daemon
