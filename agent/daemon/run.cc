#include "agent/daemon/run.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/strings/str_format.h"
#include "agent/config/credentials.h"
#include "common/daemon/logging.h"
#include "common/daemon/systemd_notify.h"
#include "common/digest/sha256.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::daemon {
namespace {

uint64_t Nanos(config::Duration duration) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count());
}
int Millis(config::Duration duration) {
  return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

// About one second of the agent's budget in blocks of `block_size` (0: the
// budget is unlimited): the most one scrub step may verify.
uint64_t BlocksPerSecondOfBudget(const config::Budget& budget, uint32_t block_size) {
  constexpr uint64_t kUnlimited = ~uint64_t{0};
  uint64_t blocks = kUnlimited;
  if (budget.bytes_per_second > 0) blocks = budget.bytes_per_second / std::max(block_size, 1u);
  if (budget.ios_per_second > 0) {
    blocks = std::min(blocks, static_cast<uint64_t>(budget.ios_per_second));
  }
  return blocks == kUnlimited ? 0 : std::max<uint64_t>(blocks, 1);
}

}  // namespace

absl::StatusOr<DaemonOptions> OptionsFromConfig(const config::AgentConfig& config) {
  DaemonOptions options;
  if (config.agent_id.empty()) {
    ASSIGN_OR_RETURN(options.agent_id, config::ReadMachineId());
  } else {
    options.agent_id = config.agent_id;
  }
  options.state_dir = config.state_dir;
  options.spool_dir = config.spool.dir;
  options.spool_max_bytes = config.spool.max_bytes;
  options.evidence_max_bytes = config.evidence.max_bytes;
  transport::SenderOptions& sender = options.sender;
  sender.address = config.collector.address;
  sender.addresses = config::CollectorAddresses(config);
  sender.tls_ca_file = config.collector.tls.ca;
  sender.tls_cert_file = config.collector.tls.cert;
  sender.tls_key_file = config.collector.tls.key;
  sender.tls_server_name = config.collector.tls.server_name;
  if (!config.collector.token_file.empty()) {
    ASSIGN_OR_RETURN(sender.token, config::ReadAgentToken(config.collector.token_file));
  }
  sender.keepalive_time_ms = Millis(config.collector.keepalive_time);
  sender.keepalive_timeout_ms = Millis(config.collector.keepalive_timeout);
  sender.backoff_initial_ms = Millis(config.collector.backoff.initial);
  sender.backoff_max_ms = Millis(config.collector.backoff.max);
  sender.heartbeat_interval_ms = Millis(config.heartbeat_interval);
  options.budget = {.bytes_per_second = static_cast<double>(config.budget.bytes_per_second),
                    .ios_per_second = config.budget.ios_per_second};
  options.cpu_share = config.budget.cpu_share;
  options.idle_priority = config.budget.idle_priority;
  options.max_boost = config.budget.max_boost;
  options.boost_lapse_ns = Nanos(config.budget.boost_lapse);
  options.report_interval_ms = Millis(config.report_interval);
  for (const config::TargetConfig& target : config.targets) {
    options.targets.push_back(TargetOptions{
        .name = target.name,
        .path = target.path,
        .checkers = target.checkers,
        .shared = {.name = target.name,
                   .target = {.path = target.path,
                              .state_dir = config::TargetStateDir(config),
                              .size = target.size,
                              .block_size = target.block_size},
                   .engine = target.engine,
                   .queue_depth = target.queue_depth},
        .block = {.pattern = target.pattern,
                  .run_blocks = target.run_blocks,
                  .durability = target.durability,
                  .write_interval_ns = Nanos(target.schedule.write_interval),
                  .cold_read_interval_ns = Nanos(target.schedule.cold_read_interval),
                  .scrub_interval_ns = Nanos(target.schedule.scrub_interval),
                  .write_blocks = target.write_blocks,
                  .evidence_dir = config.state_dir + "/evidence",
                  // State trouble is counted per report interval.
                  .state_trouble_window_ns = Nanos(config.report_interval),
                  .state_trouble_threshold = config.state_trouble_threshold,
                  .max_step_blocks = BlocksPerSecondOfBudget(config.budget, target.block_size)},
        .page_cache = {.run_blocks = target.run_blocks,
                       .write_interval_ns = Nanos(target.schedule.write_interval),
                       .cold_read_interval_ns = Nanos(target.schedule.cold_read_interval),
                       .evidence_dir = config.state_dir + "/evidence"},
        // One manifest per tree, named after its target.
        .metadata = {.name = target.name,
                     .root = target.path,
                     .state_dir = config.state_dir + "/metadata/" + target.name,
                     .entries = target.metadata.entries,
                     .changes_per_round = target.metadata.changes_per_round,
                     .change_interval_ns = Nanos(target.schedule.write_interval),
                     .verify_interval_ns = Nanos(target.schedule.scrub_interval)}});
  }
  options.config_sha256 = digest::Sha256Hex(config::DescribeConfig(config));
  options.metrics_listen = config.metrics.listen;
  options.kernel_log = config.kernel_log.enabled;
  options.kernel_log_events_per_minute = config.kernel_log.max_events_per_minute;
  options.kernel_log_kernel_lines_only = config.kernel_log.kernel_lines_only;
  options.kernel_log_report_unrelated_devices = config.kernel_log.report_unrelated_devices;
  return options;
}

int RunDaemon(const std::string& config_path) {
  // Signals are taken by one thread with sigwait; every other thread (gRPC's
  // included) inherits this mask and never sees them.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<config::AgentConfig> config = config::LoadAgentConfig(config_path);
  if (!config.ok()) {
    std::cerr << "fscanary-agent: " << config.status().message() << "\n";
    return 2;
  }
  SetUpLogging("fscanary-agent", config->log_level);
  absl::StatusOr<DaemonOptions> options = OptionsFromConfig(*config);
  if (!options.ok()) {
    spdlog::critical("{}", std::string(options.status().message()));
    return 2;
  }

  std::mutex mutex;
  Daemon* running = nullptr;
  bool stop = false;
  bool reload = false;
  std::thread signal_thread([&] {
    while (true) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      std::lock_guard lock(mutex);
      if (signal == SIGHUP) {
        reload = true;
      } else {
        stop = true;
      }
      if (running != nullptr) running->RequestStop();
      if (stop) return;
    }
  });

  int exit_code = 0;
  DaemonOptions current = *std::move(options);
  while (true) {
    absl::StatusOr<std::unique_ptr<Daemon>> daemon = Daemon::Create(current);
    if (!daemon.ok()) {
      spdlog::critical("cannot start: {}", std::string(daemon.status().message()));
      exit_code = 2;
      break;
    }
    {
      std::lock_guard lock(mutex);
      running = daemon->get();
      if (stop || reload) running->RequestStop();
    }
    if (absl::Status run = (*daemon)->Run(); !run.ok()) {
      spdlog::error("{}", std::string(run.message()));
    }
    {
      std::lock_guard lock(mutex);
      running = nullptr;
      if (stop) break;
      reload = false;
    }
    daemon->reset();
    NotifyReloading();
    absl::StatusOr<config::AgentConfig> fresh = config::LoadAgentConfig(config_path);
    absl::StatusOr<DaemonOptions> fresh_options =
        fresh.ok() ? OptionsFromConfig(*fresh) : absl::StatusOr<DaemonOptions>(fresh.status());
    if (fresh_options.ok()) {
      spdlog::info("configuration reloaded from {}", config_path);
      current = *std::move(fresh_options);
    } else {
      spdlog::error("keeping the running configuration: {}",
                    std::string(fresh_options.status().message()));
    }
  }
  {
    std::lock_guard lock(mutex);
    stop = true;
  }
  // Wake the signal thread if it is still waiting.
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  return exit_code;
}

}  // namespace fscanary::daemon
