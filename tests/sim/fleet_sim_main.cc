// fleet-sim: writes a synthetic fleet as JSON lines for `fscanary analyze`.
#include <chrono>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "tests/sim/fleet_sim.h"
#include "tests/sim/fleet_stream.h"

int main(int argc, char** argv) {
  using fscanary::fleet_sim::SimOptions;
  SimOptions options;
  std::string output = "-";
  bool plant_2018 = false;
  std::string plant;
  double planted_per_week = 1;
  uint32_t stop_after = 0;
  CLI::App app{"fleet-sim: a synthetic fleet as JSON lines, one host epoch per line"};
  app.add_option("--seed", options.seed, "Random seed");
  app.add_option("--vms", options.vms, "Number of VMs")->check(CLI::Range(1u, 1'000'000u));
  app.add_option("--config-options", options.config_options, "Kernel config options");
  app.add_option("--days", options.days, "Days simulated")->check(CLI::PositiveNumber);
  app.add_flag("--plant-2018", plant_2018,
               "Plant the 2018 blk-mq cause (4.19-rc1..4.19.7, blk_mq=on, scheduler=none, "
               "virtio_scsi)");
  app.add_option("--plant", plant,
                 "Plant a cause: 'name=value,...', kernel ranges as 'kernel=first..last'");
  app.add_option("--planted-per-week", planted_per_week, "Fleet-wide events a week from it");
  app.add_option("--background-per-week", options.background_events_per_week,
                 "Fleet-wide background events a week, spread by exposure");
  app.add_option("--stop-after-events", stop_after, "Cut the timeline at the N-th event");
  app.add_option("--output", output, "File to write ('-': stdout)");
  std::string collector;
  app.add_option("--collector", collector,
                 "Stream the fleet to this collector (host:port) as its agents would, "
                 "instead of writing JSON lines");
  CLI11_PARSE(app, argc, argv);
  if (plant_2018) options.cause = fscanary::fleet_sim::Cause2018(planted_per_week);
  if (!plant.empty()) {
    absl::StatusOr<fscanary::fleet_sim::PlantedCause> cause =
        fscanary::fleet_sim::ParseCause(plant, planted_per_week);
    if (!cause.ok()) {
      std::cerr << "fleet-sim: --plant: " << cause.status().message() << "\n";
      return 2;
    }
    options.cause = *std::move(cause);
  }
  if (stop_after > 0) options.stop_after_events = stop_after;

  const fscanary::fleet_sim::SimulatedFleet fleet = fscanary::fleet_sim::Simulate(options);
  if (!collector.empty()) {
    // Day 0 is options.days before now, so the fleet ends today.
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    const absl::Status streamed = fscanary::fleet_sim::StreamFleet(
        fleet, {.address = collector,
                .start_unix_nanos = now - static_cast<int64_t>(fleet.end_day * 86400e9)});
    if (!streamed.ok()) {
      std::cerr << "fleet-sim: " << streamed.message() << "\n";
      return 1;
    }
  } else if (output == "-") {
    fscanary::fleet_sim::WriteJsonl(fleet, std::cout);
  } else {
    std::ofstream file(output);
    if (!file) {
      std::cerr << "fleet-sim: cannot write " << output << "\n";
      return 2;
    }
    fscanary::fleet_sim::WriteJsonl(fleet, file);
  }
  std::cerr << "fleet-sim: " << fleet.epochs.size() << " host epochs, " << fleet.planted_events
            << " planted and " << fleet.background_events << " background events, " << fleet.end_day
            << " days\n";
  return 0;
}
