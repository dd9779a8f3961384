#include "agent/daemon/daemon.h"

#include <chrono>
#include <map>
#include <thread>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agent/daemon/checker_steps.h"
#include "agent/daemon/to_proto.h"
#include "agent/facts/block_stack.h"
#include "agent/facts/host_facts.h"
#include "agent/spool/spool.h"
#include "checkers/evidence/evidence_store.h"
#include "checkers/kmsg/sysfs_device_relevance.h"
#include "common/daemon/systemd_notify.h"
#include "common/status.h"
#include "common/version/version.h"
#include "io/posix.h"
#include "metrics/build_info.h"
#include "spdlog/spdlog.h"

namespace {
// The kernel log is read at least this often: a logged error reaches the
// spool within a second.
constexpr uint64_t kKernelLogPollNs = 250'000'000;
// The kernel log watcher's name where a target's would be (metrics, reports).
constexpr char kKernelLogName[] = "kernel_log";
}  // namespace

namespace fscanary::daemon {
namespace {

int64_t Now() { return static_cast<int64_t>(io::WallClockNanos()); }

// Routine records of a full spool are folded into one interval report.
std::string SummarizeRoutine(std::span<const spool::Record> routine) {
  std::vector<v1::IntervalReport> reports;
  for (const spool::Record& record : routine) {
    v1::AgentMessage message;
    if (message.ParseFromString(record.payload) && message.has_report()) {
      reports.push_back(message.report());
    }
    // Facts records are superseded by the facts every Hello carries.
  }
  v1::AgentMessage merged;
  merged.set_created_unix_nanos(Now());
  *merged.mutable_report() = MergeReports(reports);
  return merged.SerializeAsString();
}

}  // namespace

Daemon::Daemon(DaemonOptions options)
    : options_(std::move(options)),
      limiter_(options_.budget),
      boost_(options_.max_boost, options_.boost_lapse_ns) {}

Daemon::~Daemon() {
  if (metrics_server_ != nullptr) metrics_server_->Stop();
  if (sender_ != nullptr) sender_->Stop();
}

absl::StatusOr<std::unique_ptr<Daemon>> Daemon::Create(const DaemonOptions& options) {
  std::unique_ptr<Daemon> daemon(new Daemon(options));
  RETURN_IF_ERROR(daemon->Initialize());
  return daemon;
}

absl::Status Daemon::Initialize() {
  RETURN_IF_ERROR(io::MakeDirectories(options_.state_dir));
  if (options_.idle_priority) {
    if (absl::Status idle = io::SetIdleIoPriority(); !idle.ok()) {
      spdlog::warn("idle I/O priority not set: {}", std::string(idle.message()));
    }
  }
  ASSIGN_OR_RETURN(spool_, spool::Spool::Open({.directory = options_.spool_dir,
                                               .max_bytes = options_.spool_max_bytes},
                                              SummarizeRoutine));
  // Before any checker can save evidence: the quota applies from the first.
  evidence::SetSharedQuota(options_.evidence_max_bytes);
  ASSIGN_OR_RETURN(evidence_, evidence::SharedStore(options_.state_dir + "/evidence"));
  const std::string reported_path = options_.state_dir + "/reported-findings";
  ASSIGN_OR_RETURN(ReportedFindings reported, ReportedFindings::Open(reported_path));
  if (reported.malformed_lines() > 0) {
    spdlog::warn("{}: skipped {} malformed lines (those findings may be reported again)",
                 reported_path, reported.malformed_lines());
  }
  reported_ = std::make_unique<ReportedFindings>(std::move(reported));
  for (const TargetOptions& target : options_.targets) {
    ASSIGN_OR_RETURN(std::vector<ActiveChecker> opened,
                     OpenCheckers(target, limiter_.unlimited() ? nullptr : &limiter_));
    for (ActiveChecker& active : opened) checkers_.push_back(std::move(active));
  }
  if (options_.kernel_log) {
    kmsg::WatcherOptions watcher{.kmsg_path = options_.kmsg_path,
                                 .state_path = options_.state_dir + "/kmsg-cursor"};
    watcher.rate_limit.events_per_window = options_.kernel_log_events_per_minute;
    watcher.kernel_facility_only = options_.kernel_log_kernel_lines_only;
    if (!options_.kernel_log_report_unrelated_devices) {
      std::vector<std::string> target_paths;
      for (const TargetOptions& target : options_.targets) target_paths.push_back(target.path);
      watcher.relevance =
          std::make_shared<kmsg::SysfsDeviceRelevance>(kmsg::SysfsDeviceRelevance::Options{
              .target_devices = facts::DevicesOf({}, target_paths)});
    }
    absl::StatusOr<std::unique_ptr<kmsg::KernelLogWatcher>> opened =
        kmsg::KernelLogWatcher::Open(watcher);
    if (opened.ok()) {
      if (!(*opened)->start_note().empty()) spdlog::warn("kernel log: {}", (*opened)->start_note());
      auto checker = std::make_unique<kmsg::KernelLogChecker>(*std::move(opened), kKernelLogPollNs);
      kernel_log_ = checker.get();
      checkers_.push_back({kKernelLogName, std::move(checker)});
    } else {
      // Not fatal: block verification does not need it (CAP_SYSLOG missing,
      // a container without /dev/kmsg).
      spdlog::warn("kernel log not watched: {}", std::string(opened.status().message()));
    }
  }
  RETURN_IF_ERROR(RefreshFacts());
  transport::SenderOptions sender = options_.sender;
  sender.on_hint = [this](const v1::Hint& hint) {
    boost_.Offer(hint.boost_factor(), io::MonotonicNanos());
  };
  sender_ = std::make_unique<transport::Sender>(std::move(sender), *spool_,
                                                [this] { return BuildHello(); });
  metrics_ = std::make_shared<AgentMetrics>(AgentMetrics::Live{
      .spool_records = [this] { return spool_->Stats().records; },
      .collector_connected = [this] { return sender_->connected(); },
      .keeping =
          [this] {
            const spool::SpoolStats stats = spool_->Stats();
            const evidence::EvidenceStats kept = evidence_->Stats();
            return AgentMetrics::Keeping{.answers_ignored = sender_->answers_ignored(),
                                         .quarantined_by_reason = sender_->rejected(),
                                         .quarantined_records = stats.quarantined_records,
                                         .spool_read_errors = stats.read_errors,
                                         .spool_damaged_records = stats.damaged_records_skipped,
                                         .evidence_bytes = kept.bytes,
                                         .evidence_evicted = kept.evicted,
                                         .evidence_refused = kept.refused};
          }});
  if (!options_.metrics_listen.empty()) {
    build_info_ = std::make_shared<metrics::Registry>();
    (void)metrics::RegisterBuildInfo(*build_info_, version::Version(), version::SourceRevision());
    metrics_server_ = std::make_unique<metrics::MetricsServer>();
    metrics_server_->RegisterCollectable(metrics_);
    metrics_server_->RegisterCollectable(build_info_);
    ASSIGN_OR_RETURN(const int port, metrics_server_->Start(options_.metrics_listen));
    spdlog::info("metrics on {} (port {})", options_.metrics_listen, port);
  }
  return absl::OkStatus();
}

v1::Hello Daemon::BuildHello() {
  v1::Hello hello;
  hello.set_agent_id(options_.agent_id);
  hello.set_agent_version(version::VersionWithRevision());
  {
    std::lock_guard lock(facts_mutex_);
    *hello.mutable_facts() = facts_;
  }
  v1::ConfigSummary* config = hello.mutable_config();
  config->set_config_sha256(options_.config_sha256);
  config->set_budget_bytes_per_second(options_.budget.bytes_per_second);
  config->set_budget_ios_per_second(options_.budget.ios_per_second);
  config->set_budget_cpu_share(options_.cpu_share);
  // One summary per target, naming every checker that runs on it.
  std::map<std::string, v1::TargetSummary*> summaries;
  for (const ActiveChecker& active : checkers_) {
    v1::TargetSummary*& target = summaries[active.target_name];
    // The kernel log is the host's, not a target's.
    if (active.checker->Describe().kind == "kernel_log") continue;
    if (target == nullptr) {
      const checker::TargetDescription description = active.checker->Describe();
      target = config->add_targets();
      target->set_name(active.target_name);
      target->set_path(description.path);
      target->set_kind(description.kind);
      target->set_size_bytes(description.size_bytes);
      target->set_block_size(description.block_size);
      target->set_engine(description.engine);
      target->set_target_id(absl::StrFormat("%016x", description.target_id));
    }
    target->add_checkers(std::string(active.checker->name()));
  }
  const spool::SpoolStats stats = spool_->Stats();
  hello.set_spooled_records(stats.records);
  hello.set_spooled_bytes(stats.bytes);
  return hello;
}

absl::Status Daemon::Spool(const v1::AgentMessage& message, bool urgent) {
  const absl::StatusOr<uint64_t> sequence =
      spool_->Append(urgent ? spool::RecordClass::kFinding : spool::RecordClass::kRoutine,
                     message.SerializeAsString());
  if (!sequence.ok()) return sequence.status();
  return absl::OkStatus();
}

absl::Status Daemon::RefreshFacts() {
  std::vector<facts::FactsTarget> targets;
  for (const TargetOptions& target : options_.targets) {
    targets.push_back({.name = target.name, .path = target.path});
  }
  ASSIGN_OR_RETURN(v1::HostFacts current, facts::CollectHostFacts(targets));
  const uint64_t fingerprint = facts::FactsFingerprint(current);
  bool changed;
  {
    std::lock_guard lock(facts_mutex_);
    changed = facts_known_ && fingerprint != facts_fingerprint_;
    facts_known_ = true;
    facts_ = current;
    facts_fingerprint_ = fingerprint;
  }
  if (changed) {
    spdlog::info("host facts changed (kernel {}): a new epoch starts", current.kernel_release());
    v1::AgentMessage message;
    message.set_created_unix_nanos(Now());
    *message.mutable_facts() = std::move(current);
    return Spool(message, /*urgent=*/false);
  }
  return absl::OkStatus();
}

absl::Status Daemon::Report(int64_t start_ns, int64_t end_ns) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(end_ns);
  v1::IntervalReport* report = message.mutable_report();
  report->set_start_unix_nanos(start_ns);
  report->set_end_unix_nanos(end_ns);
  for (ActiveChecker& active : checkers_) {
    const checker::Activity activity = active.checker->TakeActivity();
    metrics_->AddActivity(active.target_name, activity);
    v1::CheckerInterval& interval = *report->add_checkers();
    interval = ActivityToProto(activity, std::string(active.checker->name()), active.target_name);
    interval.set_failed_steps(std::exchange(active.failed_steps, 0));
    interval.set_consecutive_failures(active.failures);
    interval.set_last_error(std::exchange(active.last_error, {}));
  }
  const spool::SpoolStats stats = spool_->Stats();
  report->set_spooled_records(stats.records);
  report->set_spooled_bytes(stats.bytes);
  return Spool(message, /*urgent=*/false);
}

void Daemon::StepCheckers() {
  StepDueCheckers(checkers_, io::MonotonicNanos, *reported_,
                  [&](const ActiveChecker& active, const checker::Finding& finding) {
                    const checker::Checker& checker = *active.checker;
                    const int64_t detected = Now();
                    const FindingSource source{.checker = checker.name(),
                                               .target_name = active.target_name,
                                               .target = checker.Describe()};
                    v1::AgentMessage message;
                    message.set_created_unix_nanos(detected);
                    *message.mutable_finding() = FindingToProto(finding, source, detected);
                    spdlog::critical("target {}: {}", active.target_name,
                                     message.finding().evidence_summary());
                    RETURN_IF_ERROR(Spool(message, /*urgent=*/true));
                    metrics_->AddFinding(active.target_name,
                                         std::string(checker::FindingKindName(finding.kind)));
                    return absl::OkStatus();
                  });
}

void Daemon::ReportSpoolLosses() {
  const spool::SpoolStats stats = spool_->Stats();
  const uint64_t losses = stats.reports_summarised + stats.reports_dropped +
                          stats.findings_dropped + stats.damaged_records_skipped;
  if (losses == losses_reported_) return;
  losses_reported_ = losses;
  v1::AgentMessage message;
  message.set_created_unix_nanos(Now());
  v1::SpoolLoss* loss = message.mutable_spool_loss();
  loss->set_reports_summarised(stats.reports_summarised);
  loss->set_reports_dropped(stats.reports_dropped);
  loss->set_findings_dropped(stats.findings_dropped);
  loss->set_damaged_records_skipped(stats.damaged_records_skipped);
  // A loss is rare and must not itself be summarised away.
  if (absl::Status spooled = Spool(message, /*urgent=*/true); !spooled.ok()) {
    spdlog::error("could not spool the spool-loss record: {}", std::string(spooled.message()));
  }
}

void Daemon::Throttle() {
  if (options_.cpu_share <= 0) return;
  const uint64_t wall = io::MonotonicNanos() - cpu_window_start_ns_;
  const uint64_t cpu = io::ProcessCpuNanos() - cpu_window_start_cpu_;
  const auto allowed_wall = static_cast<uint64_t>(static_cast<double>(cpu) / options_.cpu_share);
  if (allowed_wall > wall) io::SleepNanos(std::min<uint64_t>(allowed_wall - wall, 1'000'000'000));
  // A sliding start keeps old idle time from paying for a burst now.
  if (wall > 10'000'000'000ull) {
    cpu_window_start_ns_ = io::MonotonicNanos();
    cpu_window_start_cpu_ = io::ProcessCpuNanos();
  }
}

void Daemon::ApplyBoost() {
  const uint64_t now = io::MonotonicNanos();
  const double factor = boost_.InForce(now);
  if (factor == boost_applied_) return;
  spdlog::info("verification boost {} -> {} (ceiling {})", boost_applied_, factor,
               options_.max_boost);
  boost_applied_ = factor;
  for (ActiveChecker& active : checkers_) active.checker->SetBoost(factor, now);
  metrics_->SetBoost(factor);
}

void Daemon::RequestStop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_wake_.notify_all();
}

void Daemon::WaitUntil(uint64_t monotonic_ns) {
  const uint64_t now = io::MonotonicNanos();
  if (monotonic_ns <= now) return;
  std::unique_lock lock(stop_mutex_);
  stop_wake_.wait_for(lock, std::chrono::nanoseconds(monotonic_ns - now),
                      [this] { return stopping_.load(); });
}

absl::Status Daemon::Run() {
  sender_->Start();
  cpu_window_start_ns_ = io::MonotonicNanos();
  cpu_window_start_cpu_ = io::ProcessCpuNanos();
  const uint64_t watchdog_ns = WatchdogIntervalNanos();
  NotifyReady(absl::StrFormat("checking %d targets", options_.targets.size()));
  spdlog::info("agent {} running: {} targets, {} checkers, reporting to {}", options_.agent_id,
               options_.targets.size(), checkers_.size(),
               options_.sender.addresses.empty() ? options_.sender.address
                                                 : absl::StrJoin(options_.sender.addresses, ", "));

  int64_t report_start = Now();
  uint64_t next_report = io::MonotonicNanos() + uint64_t(options_.report_interval_ms) * 1'000'000;
  uint64_t next_facts = io::MonotonicNanos() + uint64_t(options_.facts_interval_ms) * 1'000'000;
  uint64_t last_ping = io::MonotonicNanos();
  uint64_t sender_progress_at_ping = sender_->progress();

  while (!stopping_) {
    // A hint or a lapse acts at the next turn: a scrub step is due every
    // second, a report every report_interval.
    ApplyBoost();
    StepCheckers();
    if (kernel_log_ != nullptr) {
      metrics_->SetKernelLogLinesIgnored(kernel_log_->watcher().lines_ignored());
    }
    ReportSpoolLosses();
    const uint64_t now = io::MonotonicNanos();
    if (now >= next_report) {
      const int64_t end = Now();
      if (absl::Status reported = Report(report_start, end); !reported.ok()) {
        spdlog::error("could not spool a report: {}", std::string(reported.message()));
      }
      report_start = end;
      next_report = now + uint64_t(options_.report_interval_ms) * 1'000'000;
    }
    if (now >= next_facts) {
      if (absl::Status facts = RefreshFacts(); !facts.ok()) {
        spdlog::warn("facts: {}", std::string(facts.message()));
      }
      next_facts = now + uint64_t(options_.facts_interval_ms) * 1'000'000;
    }
    // The watchdog is fed only while both the I/O loop (here) and the sender move.
    if (watchdog_ns != 0 && now - last_ping >= watchdog_ns / 2) {
      const uint64_t sender_progress = sender_->progress();
      if (sender_progress != sender_progress_at_ping) NotifyWatchdog();
      sender_progress_at_ping = sender_progress;
      last_ping = now;
    }
    Throttle();
    uint64_t next = std::min(next_report, next_facts);
    next = std::min(next, NextCheckerDueNs(checkers_));
    if (watchdog_ns != 0) next = std::min(next, last_ping + watchdog_ns / 2);
    WaitUntil(next);
  }
  NotifyStopping();
  spdlog::info("stopping: spooling the last report");
  (void)Report(report_start, Now());
  sender_->Stop();
  // Errors of single cycles were logged as they happened; a stop is clean.
  return absl::OkStatus();
}

}  // namespace fscanary::daemon
