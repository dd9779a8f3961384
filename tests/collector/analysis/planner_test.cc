#include "collector/analysis/planner.h"

#include <algorithm>
#include <cmath>

#include "collector/analysis/epoch_values.h"
#include "gtest/gtest.h"
#include "tests/collector/analysis/aliased_experiment.h"

namespace fscanary::analysis {
namespace {

using fleet_sim::ExperimentFleet;
using namespace testing;  // NOLINT: the shared experiment's constants

struct Snapshot {
  Fleet fleet;
  AnalysisResult analysis;
};

Snapshot Analyze(const ExperimentFleet& sim) {
  absl::StatusOr<Fleet> fleet = sim.ToFleet();
  EXPECT_TRUE(fleet.ok()) << fleet.status();
  absl::StatusOr<AnalysisResult> analysis = AnalyzeFleet(*fleet, {});
  EXPECT_TRUE(analysis.ok()) << analysis.status();
  return {std::move(*fleet), std::move(*analysis)};
}

bool Mentions(const std::vector<AttributeValue>& values, const AttributeValue& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The top suspect names `cause`, and nothing the fleet cannot tell apart
// from it is `other`.
bool NamesAlone(const AnalysisResult& analysis, const AttributeValue& cause,
                const AttributeValue& other) {
  if (analysis.suspects.empty()) return false;
  const Suspect& top = analysis.suspects.front();
  if (!Mentions(top.attributes, cause) || Mentions(top.attributes, other)) return false;
  for (const auto& group : top.aliases) {
    if (Mentions(group, other)) return false;
  }
  for (const Alternative& alternative : top.indistinguishable) {
    if (Mentions(alternative.attributes, other)) return false;
  }
  return true;
}

absl::StatusOr<Plan> PlanFor(const Snapshot& snapshot, const PlanOptions& options = {}) {
  const EpochValues values(snapshot.fleet, {});
  return PlanExperiments(values, snapshot.analysis, 0, options);
}

TEST(PlanExperiments, TheSimulatedFleetAliasesKernelAndScheduler) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 1);
  sim.Advance(kHistory);
  const Snapshot snapshot = Analyze(sim);
  ASSERT_FALSE(snapshot.analysis.suspects.empty());
  ASSERT_EQ(snapshot.analysis.suspects.front().aliases.size(), 1u);
  const auto& group = snapshot.analysis.suspects.front().aliases.front();
  EXPECT_TRUE(Mentions(group, kScheduler));
  EXPECT_TRUE(Mentions(group, kKernel));
}

// Applies the plan's first proposal (the cheapest: a scheduler switch) and
// runs the fleet for the days it forecast; the engine must then name the
// planted cause alone, whichever member of the alias group it is. The
// forecast holds with 90% probability, so most seeds, not all, must succeed.
TEST(PlanExperiments, ApplyingTheProposedSplitLetsTheEngineNameTheCauseAlone) {
  for (const auto& [cause, other] :
       {std::pair{kScheduler, kKernel}, std::pair{kKernel, kScheduler}}) {
    int separated = 0;
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      ExperimentFleet sim = AliasedFleet(cause, seed);
      sim.Advance(kHistory);
      const Snapshot before = Analyze(sim);
      ASSERT_FALSE(NamesAlone(before.analysis, cause, other)) << "seed " << seed;
      const absl::StatusOr<Plan> plan = PlanFor(before, {.within_days = 60});
      ASSERT_TRUE(plan.ok()) << plan.status();
      ASSERT_FALSE(plan->splits.empty()) << "seed " << seed;
      const SplitProposal& split = plan->splits.front();
      EXPECT_EQ(split.attribute, "scheduler");
      EXPECT_EQ(split.from, "none");
      EXPECT_EQ(split.hosts_carrying, kAliased);
      ASSERT_TRUE(std::isfinite(split.days)) << split.statement;
      std::vector<std::string> hosts = sim.HostsWith({{"scheduler", "none"}});
      ASSERT_EQ(hosts.size(), kAliased);
      hosts.resize(split.hosts_to_change);
      sim.Change(hosts, split.attribute, split.to);
      sim.Advance(split.days);
      separated += NamesAlone(Analyze(sim).analysis, cause, other);
    }
    EXPECT_GE(separated, 8) << "cause " << cause.attribute << "=" << cause.value;
  }
}

TEST(PlanExperiments, WithoutTheChangeTheFleetStillCannotTellThemApart) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 2);
  sim.Advance(kHistory);
  const absl::StatusOr<Plan> plan = PlanFor(Analyze(sim), {.within_days = 60});
  ASSERT_TRUE(plan.ok() && !plan->splits.empty());
  sim.Advance(plan->splits.front().days);
  EXPECT_FALSE(NamesAlone(Analyze(sim).analysis, kScheduler, kKernel));
}

TEST(PlanExperiments, ChangingMoreHostsSeparatesSoonerWhenTheHorizonIsShort) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 3);
  sim.Advance(kHistory);
  const Snapshot snapshot = Analyze(sim);
  const absl::StatusOr<Plan> relaxed = PlanFor(snapshot, {.within_days = 60});
  const absl::StatusOr<Plan> hurried = PlanFor(snapshot, {.within_days = 30});
  ASSERT_TRUE(relaxed.ok() && hurried.ok());
  ASSERT_FALSE(relaxed->splits.empty());
  ASSERT_FALSE(hurried->splits.empty());
  EXPECT_LT(relaxed->splits.front().hosts_to_change, hurried->splits.front().hosts_to_change);
  EXPECT_LE(hurried->splits.front().days, relaxed->splits.front().days);
}

TEST(PlanExperiments, ProposesAKernelMoveToo) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 4);
  sim.Advance(kHistory);
  const absl::StatusOr<Plan> plan = PlanFor(Analyze(sim), {.within_days = 60});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->splits.size(), 2u);
  const SplitProposal& move = plan->splits[1];
  EXPECT_EQ(move.attribute, "kernel");
  EXPECT_EQ(move.from, "5.15.3");
  EXPECT_NE(move.to, "5.15.3");
  EXPECT_TRUE(Mentions(move.moving, kKernel));
  EXPECT_TRUE(Mentions(move.staying, kScheduler));
  EXPECT_NE(move.statement.find("Move kernel from 5.15.3 to "), std::string::npos);
}

TEST(PlanExperiments, ASuspectWithoutAliasesNeedsNoSplit) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 5);
  // Some hosts on 5.15.3 already run mq-deadline: the fleet tells them apart.
  sim.Change({"vm-0000", "vm-0001", "vm-0002", "vm-0003", "vm-0004", "vm-0005", "vm-0006",
              "vm-0007", "vm-0008", "vm-0009"},
             "scheduler", "mq-deadline");
  sim.Advance(60);
  const absl::StatusOr<Plan> plan = PlanFor(Analyze(sim));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->splits.empty());
  EXPECT_TRUE(std::any_of(plan->notes.begin(), plan->notes.end(), [](const std::string& note) {
    return note.find("no aliases") != std::string::npos;
  }));
}

TEST(PlanExperiments, FixForecastNeedsFewerDaysOnMoreHosts) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 6);
  sim.Advance(kHistory);
  const absl::StatusOr<Plan> plan = PlanFor(Analyze(sim));
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->fix.size(), 4u);
  EXPECT_EQ(plan->fix.front().hosts, kAliased / 4);
  EXPECT_EQ(plan->fix.back().hosts, kAliased);
  for (size_t i = 1; i < plan->fix.size(); ++i) {
    EXPECT_LT(plan->fix[i].days, plan->fix[i - 1].days);
  }
  const absl::StatusOr<Plan> asked = PlanFor(Analyze(sim), {.fix_hosts = 7});
  ASSERT_TRUE(asked.ok());
  ASSERT_EQ(asked->fix.size(), 1u);
  EXPECT_EQ(asked->fix.front().hosts, 7u);
}

TEST(PlanExperiments, ASuspectNumberBeyondTheAnalysisIsNotFound) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 1);
  sim.Advance(kHistory);
  const Snapshot snapshot = Analyze(sim);
  const EpochValues values(snapshot.fleet, {});
  EXPECT_EQ(PlanExperiments(values, snapshot.analysis, 99, {}).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace fscanary::analysis
