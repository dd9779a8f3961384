// fscanary-fleet-ingest: load tool, N simulated agents (real spools and senders) in one process.
#include <chrono>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "spdlog/spdlog.h"
#include "tests/e2e/fleet/fleet_sim.h"

int main(int argc, char** argv) {
  CLI::App app{
      "fscanary-fleet-ingest: runs N simulated agents, each with its own spool and sender, "
      "appends R records per agent and waits until the collector acknowledged them all"};
  fscanary::e2e::FleetOptions options;
  double timeout_seconds = 600;
  bool json = false;
  bool verbose = false;
  app.add_option("--collector", options.collector, "collector address (host:port)")
      ->capture_default_str();
  app.add_option("--agents", options.agents, "simulated agents (fleet-0001, ...)")
      ->check(CLI::Range(1, 9999))
      ->capture_default_str();
  app.add_option("--records", options.records, "records appended per agent")->capture_default_str();
  app.add_option("--dir", options.directory, "directory of the agents' spools (one each)")
      ->required();
  app.add_option("--rate", options.rate, "records per second per agent; 0: unpaced")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--findings", options.finding_fraction, "share of records that are findings")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "seed of the records' contents")->capture_default_str();
  app.add_option("--timeout", timeout_seconds, "seconds to wait for every acknowledgement")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--json", json, "print a JSON summary on stdout");
  app.add_flag("--verbose", verbose, "log the senders' reconnects");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  spdlog::set_level(verbose ? spdlog::level::info : spdlog::level::err);

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(timeout_seconds));
  absl::StatusOr<std::unique_ptr<fscanary::e2e::Fleet>> fleet =
      fscanary::e2e::Fleet::Start(options);
  if (!fleet.ok()) {
    std::cerr << "fscanary-fleet-ingest: " << fleet.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<fscanary::e2e::FleetResult> result = (*fleet)->Finish(deadline);
  if (!result.ok()) {
    std::cerr << "fscanary-fleet-ingest: " << result.status().message() << "\n";
    return 1;
  }
  if (json) {
    std::cout << result->ToJson() << "\n";
  } else {
    std::cout << result->agents.size() << " agents appended " << result->appended()
              << " records in " << result->append_elapsed.count() << " s; all acknowledged after "
              << result->elapsed.count() << " s ("
              << static_cast<double>(result->appended()) / result->elapsed.count()
              << " records/s); spool losses " << result->losses() << "\n";
  }
  return result->losses() == 0 ? 0 : 1;
}
