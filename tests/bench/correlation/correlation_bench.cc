// The correlation engine on 100,000 host epochs × 3,000 attributes (11 host
// attributes, 2,989 kernel config options; plus the derived kernel series).
// The fleet is simulated and built once; each iteration is one AnalyzeFleet.
// Run with --benchmark_repetitions for medians (see docs/BENCHMARKS.md).
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "collector/analysis/analysis.h"
#include "tests/sim/fleet_sim.h"

namespace fscanary::analysis {
namespace {

constexpr uint32_t kConfigOptions = 2989;  // + 11 host attributes = 3,000

struct Scenario {
  const char* name;
  double planted_per_week;  // the 2018 cause; 0 for none
  double background_per_week;
};

// Simulated once per scenario; about 18,000 VMs over a year give 100,000 epochs.
const Fleet& FleetFor(const Scenario& scenario) {
  static std::map<std::string, std::unique_ptr<Fleet>> fleets;
  auto& fleet = fleets[scenario.name];
  if (fleet == nullptr) {
    const auto start = std::chrono::steady_clock::now();
    fleet_sim::SimOptions options{.seed = 42,
                                  .vms = 18'200,
                                  .config_options = kConfigOptions,
                                  .days = 365,
                                  .background_events_per_week = scenario.background_per_week};
    if (scenario.planted_per_week > 0) {
      options.cause = fleet_sim::Cause2018(scenario.planted_per_week);
    }
    const fleet_sim::SimulatedFleet simulated = fleet_sim::Simulate(options);
    const auto simulated_at = std::chrono::steady_clock::now();
    fleet = std::make_unique<Fleet>(*fleet_sim::ToFleet(simulated));
    const auto built_at = std::chrono::steady_clock::now();
    std::fprintf(stderr,
                 "%s: %zu epochs, %zu attributes, %zu values; simulated in %.1f s, "
                 "built in %.1f s\n",
                 scenario.name, fleet->epoch_count(), fleet->attribute_count(),
                 fleet->value_count(), std::chrono::duration<double>(simulated_at - start).count(),
                 std::chrono::duration<double>(built_at - simulated_at).count());
  }
  return *fleet;
}

void Analyze(benchmark::State& state, const Scenario& scenario) {
  const Fleet& fleet = FleetFor(scenario);
  AnalysisResult result;
  for (auto _ : state) {
    result = *AnalyzeFleet(fleet, {});
    benchmark::DoNotOptimize(result);
  }
  state.counters["epochs"] = static_cast<double>(result.epochs);
  state.counters["events"] = static_cast<double>(result.events);
  state.counters["items"] = static_cast<double>(result.stats.items);
  state.counters["tested"] = static_cast<double>(result.stats.tested);
  state.counters["suspects"] = static_cast<double>(result.suspects.size());
  state.counters["beam_left"] = static_cast<double>(result.stats.left_by_beam);
  static std::map<std::string, bool> described;
  if (described[scenario.name]) return;
  described[scenario.name] = true;
  for (const Suspect& suspect : result.suspects) {
    std::string name;
    for (const AttributeValue& a : suspect.attributes) {
      name += (name.empty() ? "" : " ∧ ") + a.attribute + "=" + a.value;
    }
    std::fprintf(stderr, "  suspect: %s, %lu events, q = %.2g\n", name.c_str(),
                 static_cast<unsigned long>(suspect.events), suspect.q_value);
  }
  for (int order = 1; order <= 4; ++order) {
    std::fprintf(
        stderr,
        "  order %d: intersected %lu, redundant %lu, duplicate %lu, tested %lu, built upon %lu\n",
        order, static_cast<unsigned long>(result.stats.intersected_per_order[order]),
        static_cast<unsigned long>(result.stats.redundant_per_order[order]),
        static_cast<unsigned long>(result.stats.duplicate_per_order[order]),
        static_cast<unsigned long>(result.stats.tested_per_order[order]),
        static_cast<unsigned long>(result.stats.kept_per_order[order]));
  }
}

// The 2018 cause at one event a week plus background corruptions at two.
BENCHMARK_CAPTURE(Analyze, Planted2018, Scenario{"planted-2018", 1, 2})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
// No cause: three background events a week, spread by exposure.
BENCHMARK_CAPTURE(Analyze, NoCause, Scenario{"no-cause", 0, 3})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
// A strong cause: ten events a week from it, two in the background.
BENCHMARK_CAPTURE(Analyze, StrongCause, Scenario{"strong-cause", 10, 2})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
// Mostly noise: the cause at one a week under twenty background events a week.
BENCHMARK_CAPTURE(Analyze, ManyEvents, Scenario{"many-events", 1, 20})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace fscanary::analysis

BENCHMARK_MAIN();
