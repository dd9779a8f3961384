#include "collector/daemon/run.h"

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "collector/config/tokens.h"
#include "collector/daemon/boost_decider.h"
#include "collector/daemon/fleet_metrics.h"
#include "collector/leader/leadership.h"
#include "common/daemon/logging.h"
#include "common/daemon/systemd_notify.h"
#include "common/status.h"
#include "io/posix.h"
#include "metrics/build_info.h"
#include "metrics/metrics_server.h"
#include "metrics/process_collector.h"
#include "metrics/registry.h"
#include "spdlog/spdlog.h"

#ifndef FSCANARY_VERSION
#define FSCANARY_VERSION "0.0.0"
#endif
#ifndef FSCANARY_REVISION
#define FSCANARY_REVISION "unknown"
#endif

namespace fscanary::collector {
namespace {

int64_t Nanos(config::Duration duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

// Aggregates (by attribute, suspects) are recomputed this often, and at once
// when a scrape saw a corruption finding they do not hold yet.
constexpr auto kAggregatesInterval = std::chrono::seconds(30);
constexpr auto kBehindInterval = std::chrono::seconds(2);
constexpr auto kRetentionInterval = std::chrono::hours(1);
constexpr auto kMaintenanceTick = std::chrono::milliseconds(500);
// The leader lock is tried (or checked) this often: a dead leader is
// replaced within about this long after its session ends.
constexpr auto kLeaderInterval = std::chrono::seconds(1);

// The leader lock, the fleet aggregates, retention and the watchdog, on one
// thread. Aggregates and retention run only while this collector leads.
class Maintenance {
 public:
  Maintenance(store::Store& store, FleetMetrics& fleet, Leadership& leadership,
              store::RetentionPolicy retention)
      : store_(store), fleet_(fleet), leadership_(leadership), retention_(retention) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~Maintenance() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Loop() {
    using Clock = std::chrono::steady_clock;
    auto next_aggregates = Clock::now();
    auto next_behind = Clock::now();
    auto next_retention = Clock::now();
    auto next_watchdog = Clock::now();
    auto next_leader = Clock::now();
    bool leader = false;
    const auto watchdog_interval = std::chrono::nanoseconds(daemon::WatchdogIntervalNanos() / 2);
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      const auto now = Clock::now();
      if (watchdog_interval.count() > 0 && now >= next_watchdog) {
        daemon::NotifyWatchdog();
        next_watchdog = now + watchdog_interval;
      }
      if (now >= next_leader) {
        const bool was_leader = leader;
        leader = leadership_.Poll();
        if (leader && !was_leader) {
          // Taken over: the aggregates exported are this collector's from now on.
          next_aggregates = now;
          next_retention = now;
        }
        next_leader = now + kLeaderInterval;
      }
      if (!leader) {
        lock.lock();
        wake_.wait_for(lock, kMaintenanceTick, [this] { return stop_; });
        continue;
      }
      // Behind (a scrape saw a corruption the aggregates do not hold yet):
      // refreshed at once, but no more than once per kBehindInterval, since a
      // refresh recomputes over every epoch.
      if (now >= next_aggregates || (now >= next_behind && fleet_.AggregatesBehind())) {
        if (absl::Status refreshed = fleet_.Refresh(); !refreshed.ok()) {
          spdlog::error("fleet aggregates: {}", refreshed.ToString());
        }
        next_aggregates = Clock::now() + kAggregatesInterval;
        next_behind = Clock::now() + kBehindInterval;
      }
      if (now >= next_retention) {
        absl::StatusOr<store::RetentionResult> retained =
            store_.ApplyRetention(retention_, static_cast<int64_t>(io::WallClockNanos()));
        if (!retained.ok()) {
          spdlog::error("retention: {}", retained.status().ToString());
        } else if (retained->reports_deleted + retained->epochs_merged +
                       retained->epochs_rolled_up + retained->findings_deleted >
                   0) {
          spdlog::info(
              "retention: {} reports deleted; {} epochs rolled up, {} more folded into them; "
              "{} findings deleted (their counts kept)",
              retained->reports_deleted, retained->epochs_rolled_up, retained->epochs_merged,
              retained->findings_deleted);
        }
        next_retention = Clock::now() + kRetentionInterval;
      }
      lock.lock();
      wake_.wait_for(lock, kMaintenanceTick, [this] { return stop_; });
    }
  }

  store::Store& store_;
  FleetMetrics& fleet_;
  Leadership& leadership_;
  const store::RetentionPolicy retention_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

absl::Status EnsureStateDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return absl::OkStatus();
  return ErrnoToStatus(errno, absl::StrCat("state_dir ", path));
}

// A token in both tables would make an agent an operator (able to read the
// fleet) or an operator an agent.
absl::Status CheckTokensAreNotShared(const CredentialOptions& credentials,
                                     const config::CollectorConfig& config) {
  for (const auto& [operator_name, operator_token] : credentials.operator_tokens) {
    for (const auto& [agent_id, agent_token] : credentials.agent_tokens) {
      if (operator_token == agent_token) {
        return absl::InvalidArgumentError(
            absl::StrCat(config.operator_tokens_file, ": the token of operator '", operator_name,
                         "' is also agent '", agent_id, "'s in ", config.tokens_file,
                         ": an agent must not be able to query"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerOptions> ServerOptionsFromConfig(const config::CollectorConfig& config) {
  ServerOptions options;
  options.listen = config.listen;
  options.admin_listen = config.admin_listen;
  options.tls = {.cert = config.tls.cert, .key = config.tls.key, .client_ca = config.tls.client_ca};
  CredentialOptions& credentials = options.credentials;
  if (!config.tokens_file.empty()) {
    ASSIGN_OR_RETURN(credentials.agent_tokens, config::LoadTokensFile(config.tokens_file));
  }
  if (!config.operator_tokens_file.empty()) {
    ASSIGN_OR_RETURN(
        credentials.operator_tokens,
        config::LoadTokensFile(config.operator_tokens_file, config::TokenHolder::kOperator));
  }
  RETURN_IF_ERROR(CheckTokensAreNotShared(credentials, config));
  credentials.operator_identities = {config.tls.operator_identities.begin(),
                                     config.tls.operator_identities.end()};
  credentials.require_auth = config.require_auth;
  options.streams = {
      .max_streams = config.limits.max_streams,
      .max_streams_per_agent = config.limits.max_streams_per_agent,
      .hello_timeout =
          std::chrono::duration_cast<std::chrono::milliseconds>(config.limits.hello_timeout),
      .idle_timeout =
          std::chrono::duration_cast<std::chrono::milliseconds>(config.limits.idle_timeout)};
  options.max_records_in_flight = config.limits.max_records_in_flight;
  options.max_message_bytes = static_cast<int>(config.limits.max_message_bytes);
  options.keepalive_min_time_ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(config.keepalive.min_time).count());
  options.max_batch = config.limits.max_batch;
  return options;
}

BoostDeciderOptions BoostDeciderOptionsFromConfig(const config::CollectorConfig& config) {
  const config::CollectorConfig::Adaptive& adaptive = config.adaptive;
  auto seconds = [](config::Duration duration) {
    return std::chrono::duration<double>(duration).count();
  };
  BoostDeciderOptions options{.poll_interval = adaptive.poll_interval,
                              .decide_interval = adaptive.decide_interval};
  adaptive::PolicyOptions& policy = options.policy;
  policy.max_factor = adaptive.max_factor;
  policy.max_extra_io_share = adaptive.max_extra_io_share;
  policy.leads = adaptive.leads;
  policy.victim_window_s = seconds(adaptive.victim_window);
  policy.fade_after_s = seconds(adaptive.fade_after);
  policy.confirmed_q = adaptive.confirmed_q;
  policy.lead_p = adaptive.lead_p;
  for (const std::string& neighbourhood : adaptive.neighbourhoods) {
    std::vector<std::string> attributes = absl::StrSplit(neighbourhood, ',');
    policy.neighbourhoods.push_back(std::move(attributes));
  }
  return options;
}

store::StoreOptions StoreOptionsFromConfig(const config::CollectorConfig& config) {
  store::StoreOptions options{
      .backend = config.store.backend == config::CollectorConfig::StoreBackend::kPostgres
                     ? store::StoreOptions::Backend::kPostgres
                     : store::StoreOptions::Backend::kSqlite,
      .sqlite = {.path = config.store.path},
      .postgres = {.dsn = config.store.postgres.dsn,
                   .password_file = config.store.postgres.password_file}};
  switch (config.store.synchronous) {
    case config::CollectorConfig::Synchronous::kNormal:
      options.sqlite.synchronous = store::SqliteOptions::Synchronous::kNormal;
      break;
    case config::CollectorConfig::Synchronous::kExtra:
      options.sqlite.synchronous = store::SqliteOptions::Synchronous::kExtra;
      break;
    case config::CollectorConfig::Synchronous::kFull:
      options.sqlite.synchronous = store::SqliteOptions::Synchronous::kFull;
      break;
  }
  return options;
}

int RunCollector(const std::string& config_path) {
  // Signals are taken by one thread with sigwait; every other thread (gRPC's
  // and civetweb's included) inherits this mask and never sees them.
  sigset_t signals;
  sigemptyset(&signals);
  for (const int signal : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, signal);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<config::CollectorConfig> config = config::LoadCollectorConfig(config_path);
  if (!config.ok()) {
    std::cerr << "fscanary-collector: " << config.status().message() << "\n";
    return 2;
  }
  daemon::SetUpLogging("fscanary-collector", config->log_level);
  if (config->insecure && !config::HasTlsAndAuthentication(*config)) {
    spdlog::warn(
        "insecure: true: listen {} is served without TLS and agent authentication; on a "
        "network, agents' records and tokens can be read and forged",
        config->listen);
  } else if (config->insecure) {
    spdlog::warn("insecure: true is set but changes nothing: listen {} has TLS and authentication",
                 config->listen);
  }
  absl::StatusOr<ServerOptions> server_options = ServerOptionsFromConfig(*config);
  if (!server_options.ok()) {
    spdlog::critical("{}", std::string(server_options.status().message()));
    return 2;
  }
  if (absl::Status made = EnsureStateDirectory(config->state_dir); !made.ok()) {
    spdlog::critical("{}", std::string(made.message()));
    return 2;
  }
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenStore(StoreOptionsFromConfig(*config));
  if (!store.ok()) {
    spdlog::critical("cannot open the store: {}", std::string(store.status().message()));
    return 2;
  }
  spdlog::info("store: {} {} (this collector's instance id: {})",
               config::StoreBackendName(config->store.backend),
               config->store.backend == config::CollectorConfig::StoreBackend::kPostgres
                   ? config->store.postgres.dsn
                   : config->store.path,
               (*store)->instance_id());

  auto registry = std::make_shared<metrics::Registry>();
  (void)metrics::RegisterBuildInfo(*registry, FSCANARY_VERSION, FSCANARY_REVISION);
  // Adaptive verification: the board outlives the server (its streams read
  // it); the decider, started after the server, stops before it.
  std::unique_ptr<adaptive::HintBoard> hints;
  if (config->adaptive.enabled) {
    hints = std::make_unique<adaptive::HintBoard>(config->adaptive.renew_interval);
    server_options->hints = hints.get();
  }
  absl::StatusOr<std::unique_ptr<CollectorServer>> server =
      CollectorServer::Start(*server_options, **store, *registry);
  if (!server.ok()) {
    spdlog::critical("cannot serve on {}: {}", config->listen,
                     std::string(server.status().message()));
    return 2;
  }
  auto fleet = std::make_shared<FleetMetrics>(
      **store, (*server)->sessions(),
      FleetMetricsOptions{.host_expiry_nanos = Nanos(config->host_expiry),
                          .labels = {.max_values = config->metrics.max_label_values,
                                     .max_hosts = config->metrics.max_hosts}});
  // Only the leader exports the fleet-level series (several collectors may
  // share the store); each exports its own ingest metrics (the registry).
  Leadership leadership(store::MakeLeaderLock(StoreOptionsFromConfig(*config)));
  leadership.Poll();  // the first scrape already knows (SQLite: always the leader)
  auto leader_only = std::make_shared<LeaderOnly>(leadership, fleet);
  auto process = std::make_shared<metrics::ProcessCollector>();
  metrics::MetricsServer metrics_server;
  metrics_server.RegisterCollectable(registry);
  metrics_server.RegisterCollectable(leader_only);
  metrics_server.RegisterCollectable(process);
  if (!config->metrics.listen.empty()) {
    absl::StatusOr<int> port = metrics_server.Start(config->metrics.listen);
    if (!port.ok()) {
      spdlog::critical("cannot serve metrics on {}: {}", config->metrics.listen,
                       std::string(port.status().message()));
      (*server)->Shutdown();
      return 2;
    }
    spdlog::info("metrics on {} (port {})", config->metrics.listen, *port);
  }
  int exit_code = 0;
  {
    std::unique_ptr<BoostDecider> decider;
    if (hints != nullptr) {
      decider = std::make_unique<BoostDecider>(**store, *hints, *registry,
                                               BoostDeciderOptionsFromConfig(*config));
      spdlog::info("adaptive verification on: boosts up to {}x, {}% extra verification I/O",
                   config->adaptive.max_factor, 100 * config->adaptive.max_extra_io_share);
    }
    Maintenance maintenance(
        **store, *fleet, leadership,
        store::RetentionPolicy{.report_max_age_nanos = Nanos(config->retention.reports),
                               .epoch_max_age_nanos = Nanos(config->retention.epochs)});
    spdlog::info("fscanary-collector {} listening on {} (port {}), store {}", FSCANARY_VERSION,
                 config->listen, (*server)->port(), config->store.path);
    daemon::NotifyReady(absl::StrCat("listening on ", config->listen));
    while (true) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        spdlog::warn("SIGHUP: the collector does not reload its configuration; restart it");
        continue;
      }
      spdlog::info("signal {}: stopping", signal);
      break;
    }
    daemon::NotifyStopping();
  }
  metrics_server.Stop();
  (*server)->Shutdown();
  (*server)->Wait();
  spdlog::info("stopped");
  return exit_code;
}

}  // namespace fscanary::collector
