// fscanary-loadgen: N simulated agents over real Ingest streams against running collectors.
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "tests/bench/loadgen/run.h"

int main(int argc, char** argv) {
  CLI::App app{
      "fscanary-loadgen: simulates N agents over real gRPC Ingest streams against running "
      "collectors, on an agent's schedule, and measures acknowledgements and the collectors' "
      "cost. Exit 0 when every record was acknowledged exactly once, 1 when not, 2 on an error"};
  fscanary::loadgen::RunOptions options;
  fscanary::loadgen::LoadOptions& load = options.load;
  double report_interval = 0;
  std::string write_tokens;
  bool json = false;
  bool quiet = false;
  app.add_option("--collector", load.addresses,
                 "collector address host:port; repeat for several (agents spread over them and "
                 "move to the next when a stream ends)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--agents", load.agents, "simulated agents")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  app.add_option("--duration", load.duration_seconds, "seconds of steady load, after connecting")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--report-interval", report_interval,
                 "seconds between an agent's reports; default 60, or duration/5 when that is "
                 "shorter")
      ->check(CLI::PositiveNumber);
  app.add_option("--heartbeat-interval", load.heartbeat_interval_seconds,
                 "a heartbeat after this many seconds without a message")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--finding-share", load.finding_share, "chance that a report comes with a finding")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--reconnect-share", load.reconnect_share_per_minute,
                 "share of the agents that drop their stream and reconnect, per minute")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  app.add_option("--backlog-share", load.backlog_share_per_minute,
                 "share of the agents that replay a spool backlog, per minute")
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  app.add_option("--backlog-records", load.backlog_records, "records in one backlog replay")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  app.add_option("--connect-rate", load.connect_rate, "new streams per second while connecting")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--settle", options.settle_seconds,
                 "longest wait after connecting for the connect backlog to drain")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--drain", load.drain_seconds, "seconds to wait for the last acknowledgements")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--channels", load.channels_per_address, "gRPC channels per collector address")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--tokens-file", load.tokens_file,
                 "the collector's tokens file (agent_id token lines); every agent sends its token");
  app.add_option("--write-tokens", write_tokens,
                 "write a tokens file for --agents agents to this path and exit");
  app.add_option("--agent-prefix", load.agent_prefix, "agent ids are PREFIX-000001, ...")
      ->capture_default_str();
  app.add_option("--seed", load.seed, "draws facts, findings, reconnects, backlogs")
      ->capture_default_str();
  app.add_option("--collector-pid", options.collector_pids,
                 "a collector process to measure (CPU, RSS); repeat for several");
  app.add_option("--db-path", options.db_paths, "a SQLite database whose growth is measured");
  app.add_option("--metrics", options.metrics, "a collector's /metrics address (127.0.0.1:port)");
  app.add_option("--day-report-interval", options.day_report_interval_seconds,
                 "the report interval the database growth per host per day is extrapolated to")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", json, "print the results as JSON");
  app.add_flag("--quiet", quiet, "no progress lines on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  if (!write_tokens.empty()) {
    std::ofstream file(write_tokens, std::ios::trunc);
    file << fscanary::loadgen::TokensFileText(load.agent_prefix, load.agents, load.seed);
    if (!file.flush()) {
      std::cerr << "fscanary-loadgen: cannot write " << write_tokens << "\n";
      return 2;
    }
    return 0;
  }
  load.report_interval_seconds =
      report_interval > 0 ? report_interval : std::min(60.0, load.duration_seconds / 5);
  options.verbose = !quiet;

  absl::StatusOr<fscanary::loadgen::RunResult> result = fscanary::loadgen::RunLoad(options);
  if (!result.ok()) {
    std::cerr << "fscanary-loadgen: " << result.status().message() << "\n";
    return 2;
  }
  std::cout << (json ? result->ToJson() + "\n" : result->ToTable());
  return result->ok() ? 0 : 1;
}
