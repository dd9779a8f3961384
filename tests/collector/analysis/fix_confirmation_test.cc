#include "collector/analysis/fix_confirmation.h"

#include <algorithm>
#include <cmath>

#include "collector/analysis/epoch_values.h"
#include "collector/analysis/planner.h"
#include "gtest/gtest.h"
#include "tests/collector/analysis/aliased_experiment.h"

namespace fscanary::analysis {
namespace {

using fleet_sim::ExperimentFleet;
using namespace testing;  // NOLINT: the shared experiment's constants

constexpr uint32_t kChanged = 20;

TEST(TestFix, NoEventsAfterAgainstTenInTheSameExposureIsFixed) {
  // Under ratio 1/2 the share after is 0.5 / 1.5: P(0 of 10) = (2/3)^10.
  const FixTest test = TestFix(0, 1.0, 10, 1.0, {});
  EXPECT_NEAR(test.p_fixed, 0.017341529915832606, 1e-12);
  EXPECT_EQ(test.verdict, FixVerdict::kFixed);
  EXPECT_EQ(test.rate_ratio, 0);
}

TEST(TestFix, MoreEventsAfterThanBeforeIsNotFixed) {
  // P(X >= 15) for X ~ Binomial(25, 1/3).
  const FixTest test = TestFix(15, 1.0, 10, 1.0, {});
  EXPECT_NEAR(test.p_not_fixed, 0.005600078648666415, 1e-12);
  EXPECT_EQ(test.verdict, FixVerdict::kNotFixed);
  EXPECT_DOUBLE_EQ(test.rate_ratio, 1.5);
}

TEST(TestFix, EqualRatesOnLittleDataAreNotYetKnown) {
  // P(X >= 10) for X ~ Binomial(20, 1/3) is 0.092: not below 0.05.
  EXPECT_EQ(TestFix(10, 1.0, 10, 1.0, {}).verdict, FixVerdict::kNotYetKnown);
  EXPECT_EQ(TestFix(0, 0.0, 10, 1.0, {}).verdict, FixVerdict::kNotYetKnown);
  EXPECT_EQ(TestFix(0, 1.0, 0, 1.0, {}).verdict, FixVerdict::kNotYetKnown);
}

// The report of the scheduler switch, if fix confirmation found it.
std::optional<ChangeReport> SchedulerSwitch(const ExperimentFleet& sim) {
  absl::StatusOr<analysis::Fleet> fleet = sim.ToFleet();
  EXPECT_TRUE(fleet.ok());
  const EpochValues values(*fleet, {});
  for (ChangeReport& report : ConfirmFixes(values, ExposureUnit::kBytes, {})) {
    if (report.changes.size() == 1 && report.changes[0].attribute == "scheduler" &&
        report.changes[0].from == "none" && report.changes[0].to == "mq-deadline") {
      return std::move(report);
    }
  }
  return std::nullopt;
}

// The planner's forecast for a fix on kChanged of the carrying hosts.
double ForecastDays(const ExperimentFleet& sim) {
  absl::StatusOr<analysis::Fleet> fleet = sim.ToFleet();
  EXPECT_TRUE(fleet.ok());
  absl::StatusOr<AnalysisResult> analysis = AnalyzeFleet(*fleet, {});
  EXPECT_TRUE(analysis.ok() && !analysis->suspects.empty());
  const EpochValues values(*fleet, {});
  absl::StatusOr<Plan> plan = PlanExperiments(values, *analysis, 0, {.fix_hosts = kChanged});
  EXPECT_TRUE(plan.ok() && plan->fix.size() == 1);
  return plan->fix.front().days;
}

void SwitchScheduler(ExperimentFleet& sim) {
  std::vector<std::string> hosts = sim.HostsWith({{"scheduler", "none"}});
  ASSERT_EQ(hosts.size(), kAliased);
  hosts.resize(kChanged);
  sim.Change(hosts, "scheduler", "mq-deadline");
}

// The cause is scheduler=none: switching it removes the cause on the changed
// hosts. Fix confirmation must say "fixed", and within the days the planner
// forecast before the change (with 90% probability: most seeds, not all).
TEST(ConfirmFixes, AChangeThatRemovesTheCauseIsFixedWithinTheForecast) {
  int within = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    ExperimentFleet sim = AliasedFleet(kScheduler, seed);
    sim.Advance(kHistory);
    const double forecast = ForecastDays(sim);
    ASSERT_TRUE(std::isfinite(forecast));
    SwitchScheduler(sim);
    std::optional<double> fixed_after;
    for (int day = 1; day <= 2 * forecast + 1 && !fixed_after.has_value(); ++day) {
      sim.Advance(1);
      const std::optional<ChangeReport> report = SchedulerSwitch(sim);
      ASSERT_TRUE(report.has_value()) << "seed " << seed << " day " << day;
      EXPECT_EQ(report->hosts, kChanged);
      EXPECT_EQ(report->events_after, 0u);
      EXPECT_NE(report->verdict, FixVerdict::kNotFixed) << report->statement;
      if (report->verdict == FixVerdict::kFixed) fixed_after = day;
    }
    ASSERT_TRUE(fixed_after.has_value()) << "seed " << seed;
    within += *fixed_after <= forecast;
  }
  EXPECT_GE(within, 8);
}

// The cause is the kernel: the same scheduler switch leaves it in place.
// Fix confirmation must never say "fixed", and in time says "not fixed".
TEST(ConfirmFixes, AChangeThatLeavesTheCauseIsNeverFixed) {
  int not_fixed = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    ExperimentFleet sim = AliasedFleet(kKernel, seed);
    sim.Advance(kHistory);
    const double forecast = ForecastDays(sim);
    SwitchScheduler(sim);
    FixVerdict last = FixVerdict::kNotYetKnown;
    for (int day = 1; day <= 3 * std::min(forecast, 100.0); ++day) {
      sim.Advance(1);
      const std::optional<ChangeReport> report = SchedulerSwitch(sim);
      if (!report.has_value()) continue;  // no events yet anywhere near it
      ASSERT_NE(report->verdict, FixVerdict::kFixed)
          << "seed " << seed << ": " << report->statement;
      last = report->verdict;
    }
    not_fixed += last == FixVerdict::kNotFixed;
  }
  EXPECT_GE(not_fixed, 8);
}

TEST(ConfirmFixes, RightAfterTheChangeItIsNotYetKnown) {
  ExperimentFleet sim = AliasedFleet(kScheduler, 1);
  sim.Advance(kHistory);
  SwitchScheduler(sim);
  sim.Advance(1);
  const std::optional<ChangeReport> report = SchedulerSwitch(sim);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->verdict, FixVerdict::kNotYetKnown);
  EXPECT_NE(report->statement.find("Not yet known"), std::string::npos) << report->statement;
  EXPECT_EQ(report->control_hosts, kAliased - kChanged);
  EXPECT_GT(report->events_before + report->events_control, 0u);
}

// Hand-built: two hosts upgrade their kernel, which changes config options
// too; the change is named by the kernel, with the options counted.
TEST(ConfirmFixes, AKernelUpgradeIsOneChangeWithItsConfigOptionsCounted) {
  FleetBuilder builder;
  const AttributeId kernel = builder.Attribute("kernel");
  const AttributeId option = builder.Attribute("CONFIG_BLK_MQ");
  const KindId kind = builder.Kind("lost_write");
  const ValueId old_kernel = builder.Value(kernel, "5.15.3");
  const ValueId new_kernel = builder.Value(kernel, "5.15.8");
  const ValueId option_m = builder.Value(option, "m");
  const ValueId option_y = builder.Value(option, "y");
  const auto add = [&](const std::string& host, double start, ValueId k, ValueId o,
                       uint64_t events) {
    const ValueId values[] = {k, o};
    const FleetBuilder::KindCount corruptions[] = {{kind, events}};
    ASSERT_TRUE(builder
                    .AddEpoch({.host = host,
                               .exposure_bytes = 1e12,
                               .exposure_seconds = 86400,
                               .start_seconds = start,
                               .values = values,
                               .corruptions = corruptions})
                    .ok());
  };
  add("a", 0, old_kernel, option_m, 3);
  add("a", 86400, new_kernel, option_y, 0);
  add("b", 0, old_kernel, option_m, 2);
  add("b", 86400, new_kernel, option_y, 0);
  add("c", 0, old_kernel, option_m, 4);
  add("d", std::numeric_limits<double>::quiet_NaN(), old_kernel, option_m, 1);
  const analysis::Fleet fleet = std::move(builder).Build();
  const EpochValues values(fleet, {});
  const std::vector<ChangeReport> reports = ConfirmFixes(values, ExposureUnit::kBytes, {});
  ASSERT_EQ(reports.size(), 1u);
  const ChangeReport& report = reports.front();
  ASSERT_EQ(report.changes.size(), 1u);
  EXPECT_EQ(report.changes[0].attribute, "kernel");
  EXPECT_EQ(report.changes[0].from, "5.15.3");
  EXPECT_EQ(report.changes[0].to, "5.15.8");
  EXPECT_EQ(report.config_changes, 1u);
  EXPECT_EQ(report.hosts, 2u);
  EXPECT_EQ(report.events_before, 5u);
  EXPECT_EQ(report.events_after, 0u);
  EXPECT_EQ(report.control_hosts, 2u);  // c, and d (its start unknown, but unchanged)
  EXPECT_EQ(report.events_control, 5u);
  EXPECT_NE(report.statement.find("kernel 5.15.3 → 5.15.8 (with 1 kernel config option)"),
            std::string::npos)
      << report.statement;
}

// Hand-built: 40 hosts each make a change of their own that does nothing.
// 39 show as many events after as before; on one, by chance, 10 before and
// none after (p = 0.017 alone, "fixed" at 95% if it were the only change).
// Among 40 changes that is what chance gives: no verdict of "fixed".
TEST(ConfirmFixes, ManyChangesThatDoNothingGiveNoFixedVerdictByChance) {
  constexpr int kChanges = 40;
  FleetBuilder builder;
  const AttributeId tag = builder.Attribute("tag");
  const KindId kind = builder.Kind("lost_write");
  for (int i = 0; i < kChanges; ++i) {
    const std::string host = "vm-" + std::to_string(i);
    for (const int epoch : {0, 1}) {
      const ValueId values[] = {builder.Value(tag, host + (epoch == 0 ? "-old" : "-new"))};
      const uint64_t events = i == 0 ? (epoch == 0 ? 10 : 0) : 5;
      const FleetBuilder::KindCount corruptions[] = {{kind, events}};
      ASSERT_TRUE(builder
                      .AddEpoch({.host = host,
                                 .exposure_bytes = 1e12,
                                 .exposure_seconds = 86400,
                                 .start_seconds = epoch * 86400.0,
                                 .values = values,
                                 .corruptions = corruptions})
                      .ok());
    }
  }
  const analysis::Fleet fleet = std::move(builder).Build();
  const EpochValues values(fleet, {});
  const std::vector<ChangeReport> reports = ConfirmFixes(values, ExposureUnit::kBytes, {});
  ASSERT_FALSE(reports.empty());
  const ChangeReport& lucky = reports.front();  // the most events in the reference
  EXPECT_EQ(lucky.changes[0].from, "vm-0-old");
  EXPECT_NEAR(lucky.p_fixed, 0.017341529915832606, 1e-12);
  EXPECT_NEAR(lucky.q_fixed, 0.017341529915832606 * kChanges, 1e-9);
  for (const ChangeReport& report : reports) {
    EXPECT_NE(report.verdict, FixVerdict::kFixed) << report.statement;
  }
}

}  // namespace
}  // namespace fscanary::analysis
