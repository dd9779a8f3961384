// The "done when" cases, on simulated fleets: the 2018 blk-mq pattern
// after five events, and fleets with no cause at all.
#include <iostream>
#include <string>

#include "collector/analysis/analysis.h"
#include "collector/analysis/kernel_version.h"
#include "gtest/gtest.h"
#include "tests/sim/fleet_sim.h"
#include "tests/sim/judge_2018.h"

namespace fscanary::analysis {
namespace {

using fleet_sim::Cause2018;
using fleet_sim::InCause2018Range;
using fleet_sim::NamesCause2018;
using fleet_sim::SimOptions;
using fleet_sim::Simulate;
using fleet_sim::SimulatedFleet;
using fleet_sim::ToFleet;

struct Outcome {
  bool top_is_planted = false;
  bool brackets = false;
  std::string top;
  std::string kernel;
};

Outcome Judge(const AnalysisResult& result) {
  Outcome outcome;
  outcome.kernel = result.kernel_versions.statement;
  if (result.suspects.empty()) return outcome;
  const Suspect& top = result.suspects.front();
  outcome.top = top.explanation;
  outcome.top_is_planted = NamesCause2018(top);
  const KernelVersionReport& kernel = result.kernel_versions;
  outcome.brackets =
      kernel.first_affected.has_value() && InCause2018Range(*kernel.first_affected) &&
      InCause2018Range(*kernel.last_affected) &&
      (!kernel.last_clean.has_value() || KernelReleaseLess(*kernel.last_clean, "4.19-rc1")) &&
      (!kernel.first_clean_after.has_value() ||
       KernelReleaseLess("4.19.7", *kernel.first_clean_after));
  return outcome;
}

AnalysisResult Analyze(const SimulatedFleet& simulated) {
  absl::StatusOr<Fleet> fleet = ToFleet(simulated);
  EXPECT_TRUE(fleet.ok()) << fleet.status();
  absl::StatusOr<AnalysisResult> result = AnalyzeFleet(*fleet, {});
  EXPECT_TRUE(result.ok()) << result.status();
  return *std::move(result);
}

struct SweepCounts {
  int planted_on_top = 0;
  int bracketed = 0;
  int closed_below = 0;
  int closed_above = 0;
};

// 2,500 VMs, thousands of config options, the 2018 cause at one event a week
// fleet-wide; each fleet as it stands right after its fifth event.
SweepCounts Sweep2018(int first_seed, int seeds, bool expect_each) {
  SweepCounts counts;
  for (int seed = first_seed; seed < first_seed + seeds; ++seed) {
    const SimulatedFleet simulated = Simulate({.seed = static_cast<uint64_t>(seed),
                                               .vms = 2500,
                                               .config_options = 3000,
                                               .cause = Cause2018(/*events_per_week=*/1),
                                               .stop_after_events = 5});
    EXPECT_EQ(simulated.planted_events, 5u);
    const AnalysisResult result = Analyze(simulated);
    const Outcome outcome = Judge(result);
    counts.planted_on_top += outcome.top_is_planted;
    counts.bracketed += outcome.brackets;
    counts.closed_below += result.kernel_versions.last_clean.has_value();
    counts.closed_above += result.kernel_versions.first_clean_after.has_value();
    if (expect_each) {
      EXPECT_TRUE(outcome.top_is_planted) << "seed " << seed << ": " << outcome.top;
      EXPECT_TRUE(outcome.brackets) << "seed " << seed << ": " << outcome.kernel;
    } else if (!outcome.top_is_planted) {
      std::cout << "seed " << seed << ": " << outcome.top << "\n";
    }
  }
  std::cout << counts.planted_on_top << "/" << seeds << " planted on top, " << counts.bracketed
            << "/" << seeds << " bracketed (closed below in " << counts.closed_below
            << ", above in " << counts.closed_above << ")\n";
  return counts;
}

TEST(Scenario2018, PlantedConjunctionTopsTheListAfterFiveEvents) { Sweep2018(1, 10, true); }

// The rate behind docs/CORRELATION.md; 20 s, so run on demand:
// analysis_test --gtest_also_run_disabled_tests --gtest_filter='*Sweep*'
TEST(Scenario2018, DISABLED_SweepOfFortySeeds) {
  const SweepCounts counts = Sweep2018(1, 40, false);
  EXPECT_GE(counts.planted_on_top, 38);
  EXPECT_GE(counts.bracketed, 38);
}

TEST(Scenario2018, MoreEventsMakeTheSuspectSignificantAndTheBracketCloser) {
  const SimulatedFleet simulated = Simulate({.seed = 3,
                                             .vms = 2500,
                                             .config_options = 3000,
                                             .cause = Cause2018(/*events_per_week=*/1),
                                             .stop_after_events = 20});
  const AnalysisResult result = Analyze(simulated);
  const Outcome outcome = Judge(result);
  EXPECT_TRUE(outcome.top_is_planted) << outcome.top;
  EXPECT_TRUE(outcome.brackets) << outcome.kernel;
  ASSERT_FALSE(result.suspects.empty());
  EXPECT_LT(result.suspects.front().q_value, 1e-6);
  EXPECT_TRUE(result.kernel_versions.last_clean.has_value()) << outcome.kernel;
}

// No cause: corruptions spread over the fleet by exposure alone. A suspect
// with q < 0.05 would be a false discovery; at most 5 of 100 fleets may have one.
TEST(NullFleet, NoSignificantSuspectInAtLeast95Of100Seeds) {
  constexpr int kSeeds = 100;
  constexpr uint32_t kEvents[] = {5, 10, 20, 40};
  int with_false_discovery = 0;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    const SimulatedFleet simulated = Simulate({.seed = static_cast<uint64_t>(1000 + seed),
                                               .vms = 2500,
                                               .config_options = 300,
                                               .background_events_per_week = 2,
                                               .stop_after_events = kEvents[seed % 4]});
    const AnalysisResult result = Analyze(simulated);
    bool significant = false;
    for (const Suspect& suspect : result.suspects) significant |= suspect.q_value < 0.05;
    if (significant) {
      ++with_false_discovery;
      std::cout << "seed " << seed << ": " << result.suspects.front().explanation << "\n";
    }
  }
  std::cout << with_false_discovery << " of " << kSeeds
            << " null fleets had a suspect with q < 0.05\n";
  EXPECT_LE(with_false_discovery, 5);
}

}  // namespace
}  // namespace fscanary::analysis
