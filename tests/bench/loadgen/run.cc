// One load run: connect, steady window, drain; the collectors sampled around the window.
#include "tests/bench/loadgen/run.h"

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace fscanary::loadgen {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t TotalDatabaseBytes(const std::vector<std::string>& paths) {
  uint64_t total = 0;
  for (const std::string& path : paths) total += DatabaseBytes(path);
  return total;
}

constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace

bool RunResult::ok() const {
  return lost() == 0 && counts.records_rejected == 0 && counts.duplicate_acks == 0 &&
         counts.unexpected_acks == 0 && counts.records_acknowledged == counts.records_sent;
}

absl::StatusOr<RunResult> RunLoad(const RunOptions& options) {
  RunResult result{.options = options};
  const LoadOptions& load = options.load;
  const Clock::time_point start = Clock::now();
  absl::StatusOr<std::unique_ptr<Fleet>> fleet = Fleet::Start(load);
  if (!fleet.ok()) return fleet.status();
  const auto connect_allowance = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(load.agents / load.connect_rate + 120));
  if (!(*fleet)->WaitConnected(start + connect_allowance)) {
    const FleetCounts counts = (*fleet)->Counts();
    return absl::UnavailableError(
        absl::StrFormat("only %d of %d agents opened a stream (%d streams failed)", counts.hellos,
                        load.agents, counts.stream_failures));
  }
  result.connect_seconds = SecondsSince(start);
  if (options.verbose) {
    std::cerr << absl::StrFormat("fscanary-loadgen: %d agents connected in %.1f s\n", load.agents,
                                 result.connect_seconds);
  }

  // The connect storm leaves a backlog (every Hello is stored before its
  // stream's records): the window starts once it drained to about a second of
  // the steady rate, or after settle_seconds.
  const double steady_pending = std::max(10.0, load.agents / load.report_interval_seconds);
  const Clock::time_point settle_start = Clock::now();
  const Clock::time_point settle_end =
      settle_start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.settle_seconds));
  // Settled: at most that many pending for 5 s in a row.
  Clock::time_point calm_since = Clock::now();
  while (Clock::now() < settle_end && Clock::now() - calm_since < std::chrono::seconds(5)) {
    if (static_cast<double>((*fleet)->Counts().records_pending) > steady_pending) {
      calm_since = Clock::now();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  result.settle_seconds = SecondsSince(settle_start);
  if (options.verbose) {
    std::cerr << absl::StrFormat("fscanary-loadgen: settled in %.1f s (%d pending)\n",
                                 result.settle_seconds, (*fleet)->Counts().records_pending);
  }

  std::vector<ProcessSample> before;
  absl::StatusOr<ProcessSample> self_before = SampleProcess(getpid());
  if (!self_before.ok()) return self_before.status();
  for (const pid_t pid : options.collector_pids) {
    absl::StatusOr<ProcessSample> sample = SampleProcess(pid);
    if (!sample.ok()) return sample.status();
    before.push_back(*sample);
  }
  result.db_bytes_before = TotalDatabaseBytes(options.db_paths);
  // The connect storm's records wait behind every Hello: not the steady state.
  (*fleet)->StartWindow();
  const uint64_t acknowledged_before = (*fleet)->Counts().records_acknowledged;
  const Clock::time_point window_start = Clock::now();
  const Clock::time_point window_end =
      window_start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(load.duration_seconds));
  while (Clock::now() < window_end) {
    std::this_thread::sleep_until(std::min(window_end, Clock::now() + std::chrono::seconds(10)));
    if (options.verbose) {
      const FleetCounts counts = (*fleet)->Counts();
      std::cerr << absl::StrFormat(
          "fscanary-loadgen: %5.0f s: %d sent, %d acknowledged, %d pending, %d streams open, "
          "%d failed\n",
          SecondsSince(window_start), counts.records_sent, counts.records_acknowledged,
          counts.records_pending, counts.open_streams, counts.stream_failures);
    }
  }
  (*fleet)->EndWindow();
  result.window_seconds = SecondsSince(window_start);
  const uint64_t acknowledged_after = (*fleet)->Counts().records_acknowledged;
  result.acknowledged_in_window = acknowledged_after - acknowledged_before;
  result.records_in_db_window = result.acknowledged_in_window;
  result.db_bytes_after = TotalDatabaseBytes(options.db_paths);
  const double minutes = result.window_seconds / 60;
  absl::StatusOr<ProcessSample> self_after = SampleProcess(getpid());
  if (!self_after.ok()) return self_after.status();
  result.loadgen_cpu_seconds = self_after->cpu_seconds - self_before->cpu_seconds;
  result.loadgen_rss_bytes = self_after->rss_bytes;
  for (size_t i = 0; i < options.collector_pids.size(); ++i) {
    absl::StatusOr<ProcessSample> sample = SampleProcess(options.collector_pids[i]);
    if (!sample.ok()) return sample.status();
    const double cpu = sample->cpu_seconds - before[i].cpu_seconds;
    result.collectors.push_back(CollectorUsage{
        .pid = options.collector_pids[i],
        .cpu_seconds = cpu,
        .cpu_seconds_per_1000_agents_per_minute = cpu / (load.agents / 1000.0) / minutes,
        .end = *sample,
    });
  }
  // Scraped while every agent is still connected, after the CPU was read.
  for (const std::string& address : options.metrics) {
    std::vector<Scrape> scrapes;
    for (int i = 0; i < 3; ++i) {
      absl::StatusOr<Scrape> scrape = ScrapeMetrics(address);
      if (!scrape.ok()) return scrape.status();
      scrapes.push_back(*scrape);
    }
    std::sort(scrapes.begin(), scrapes.end(),
              [](const Scrape& a, const Scrape& b) { return a.seconds < b.seconds; });
    result.metrics.push_back(MetricsUsage{.address = address, .median = scrapes[1]});
  }

  (*fleet)->StopLoad();
  const Clock::time_point drain_start = Clock::now();
  (*fleet)->Drain(drain_start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(load.drain_seconds)));
  result.drain_seconds = SecondsSince(drain_start);
  (*fleet)->Shutdown(Clock::now() + std::chrono::seconds(30));
  result.counts = (*fleet)->Counts();
  LatencySamples latencies = (*fleet)->TakeLatencies();
  result.connect_latency_samples = latencies.before_window;
  result.latency_samples =
      latencies.micros.size() + latencies.before_window + latencies.after_window;
  result.latency_p50_ms = Quantile(latencies.micros, 0.50) / 1000;
  result.latency_p99_ms = Quantile(latencies.micros, 0.99) / 1000;
  result.latency_max_ms = Quantile(latencies.micros, 1.0) / 1000;
  return result;
}

std::string RunResult::ToJson() const {
  const LoadOptions& load = options.load;
  const double window = std::max(window_seconds, 1e-9);
  nlohmann::json json;
  json["agents"] = load.agents;
  json["addresses"] = load.addresses;
  json["duration_seconds"] = window_seconds;
  json["connect_seconds"] = connect_seconds;
  json["settle_seconds"] = settle_seconds;
  json["drain_seconds"] = drain_seconds;
  json["loadgen"] = {{"cpu_seconds", loadgen_cpu_seconds},
                     {"rss_mib", static_cast<double>(loadgen_rss_bytes) / kMiB}};
  json["report_interval_seconds"] = load.report_interval_seconds;
  json["heartbeat_interval_seconds"] = load.heartbeat_interval_seconds;
  json["records"] = {
      {"sent", counts.records_sent},
      {"acknowledged", counts.records_acknowledged},
      {"lost", lost()},
      {"rejected", counts.records_rejected},
      {"duplicate_acks", counts.duplicate_acks},
      {"unexpected_acks", counts.unexpected_acks},
      {"written_with_resends", counts.records_written},
      {"reports", counts.reports},
      {"findings", counts.findings},
  };
  json["heartbeats"] = counts.heartbeats;
  json["backlog_bursts"] = counts.backlog_bursts;
  json["streams"] = {{"opened", counts.hellos},
                     {"planned_reconnects", counts.planned_reconnects},
                     {"failures", counts.stream_failures}};
  json["acknowledged_records_per_second"] = acknowledged_in_window / window;
  json["ack_latency_ms"] = {{"p50", latency_p50_ms},
                            {"p99", latency_p99_ms},
                            {"max", latency_max_ms},
                            {"samples", latency_samples},
                            {"samples_before_window", connect_latency_samples}};
  json["collectors"] = nlohmann::json::array();
  for (const CollectorUsage& collector : collectors) {
    json["collectors"].push_back({
        {"pid", collector.pid},
        {"cpu_seconds", collector.cpu_seconds},
        {"cpu_seconds_per_1000_agents_per_minute",
         collector.cpu_seconds_per_1000_agents_per_minute},
        {"rss_mib", static_cast<double>(collector.end.rss_bytes) / kMiB},
        {"peak_rss_mib", static_cast<double>(collector.end.peak_rss_bytes) / kMiB},
        {"threads", collector.end.threads},
    });
  }
  const double growth = static_cast<double>(db_bytes_after) - static_cast<double>(db_bytes_before);
  const double per_record =
      records_in_db_window == 0 ? 0 : growth / static_cast<double>(records_in_db_window);
  const double records_per_host_per_day = 86400 / options.day_report_interval_seconds;
  json["database"] = {
      {"paths", options.db_paths},
      {"bytes_before", db_bytes_before},
      {"bytes_after", db_bytes_after},
      {"bytes_per_record", per_record},
      {"bytes_per_host_per_day", growth / load.agents / window * 86400},
      {"bytes_per_host_per_day_at_report_interval", per_record * records_per_host_per_day},
      {"day_report_interval_seconds", options.day_report_interval_seconds},
  };
  json["metrics"] = nlohmann::json::array();
  for (const MetricsUsage& metrics_usage : metrics) {
    json["metrics"].push_back({{"address", metrics_usage.address},
                               {"bytes", metrics_usage.median.bytes},
                               {"series", metrics_usage.median.series},
                               {"scrape_seconds", metrics_usage.median.seconds}});
  }
  json["ok"] = ok();
  return json.dump(2);
}

std::string RunResult::ToTable() const {
  const LoadOptions& load = options.load;
  const double window = std::max(window_seconds, 1e-9);
  std::string text = absl::StrFormat(
      "fscanary-loadgen: %d agents on %s, report every %.3g s, %.0f s steady (connect %.1f s, "
      "settle %.1f s, drain %.1f s)\n",
      load.agents, absl::StrJoin(load.addresses, ","), load.report_interval_seconds, window,
      connect_seconds, settle_seconds, drain_seconds);
  text +=
      absl::StrFormat("  %-44s %d sent, %d acknowledged, %d lost, %d rejected, %d acked twice\n",
                      "records", counts.records_sent, counts.records_acknowledged, lost(),
                      counts.records_rejected, counts.duplicate_acks + counts.unexpected_acks);
  text += absl::StrFormat("  %-44s %.1f\n", "acknowledged records/s (steady window)",
                          acknowledged_in_window / window);
  text +=
      absl::StrFormat("  %-44s p50 %.2f, p99 %.2f, max %.2f (%d samples)\n",
                      "send -> ack, ms, records sent in the window", latency_p50_ms, latency_p99_ms,
                      latency_max_ms, latency_samples - connect_latency_samples);
  text += absl::StrFormat(
      "  %-44s %d heartbeats, %d findings, %d backlog bursts, %d reconnects, "
      "%d stream failures\n",
      "schedule", counts.heartbeats, counts.findings, counts.backlog_bursts,
      counts.planned_reconnects, counts.stream_failures);
  text += absl::StrFormat("  %-44s CPU %.2f s, RSS %.1f MiB\n", "loadgen itself",
                          loadgen_cpu_seconds, static_cast<double>(loadgen_rss_bytes) / kMiB);
  for (const CollectorUsage& collector : collectors) {
    text += absl::StrFormat(
        "  collector pid %-32d CPU %.2f s = %.3f s per 1,000 agents per minute; RSS %.1f MiB "
        "(peak %.1f), %d threads\n",
        collector.pid, collector.cpu_seconds, collector.cpu_seconds_per_1000_agents_per_minute,
        static_cast<double>(collector.end.rss_bytes) / kMiB,
        static_cast<double>(collector.end.peak_rss_bytes) / kMiB, collector.end.threads);
  }
  if (!options.db_paths.empty()) {
    const double growth =
        static_cast<double>(db_bytes_after) - static_cast<double>(db_bytes_before);
    const double per_record =
        records_in_db_window == 0 ? 0 : growth / static_cast<double>(records_in_db_window);
    text += absl::StrFormat(
        "  %-44s %.0f -> %.0f MiB; %.0f bytes per record; per host per day %.2f MiB at this "
        "rate, %.2f MiB at one report per %.0f s\n",
        "database", db_bytes_before / kMiB, db_bytes_after / kMiB, per_record,
        growth / load.agents / window * 86400 / kMiB,
        per_record * 86400 / options.day_report_interval_seconds / kMiB,
        options.day_report_interval_seconds);
  }
  for (const MetricsUsage& metrics_usage : metrics) {
    text += absl::StrFormat("  /metrics %-35s %.2f MiB, %d series, scraped in %.3f s\n",
                            metrics_usage.address, metrics_usage.median.bytes / kMiB,
                            metrics_usage.median.series, metrics_usage.median.seconds);
  }
  text += ok() ? "  OK: every record acknowledged exactly once\n"
               : "  FAILED: records lost, rejected or acknowledged twice\n";
  return text;
}

}  // namespace fscanary::loadgen
