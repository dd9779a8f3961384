// The calendar-time fleet: what adaptation changes (when corruptions are
// found) and what it must not (which ones, and the extra-I/O budget).
#include "tests/sim/calendar_sim.h"

#include "gtest/gtest.h"

namespace fscanary::fleet_sim {
namespace {

SimulatedFleet SmallFleet(uint64_t seed) {
  return Simulate({.seed = seed,
                   .vms = 600,
                   .config_options = 50,
                   .days = 200,
                   .cause = Cause2018(/*events_per_week=*/1)});
}

TEST(CalendarSim, WithoutAdaptationNoExtraIo) {
  const SimulatedFleet fleet = SmallFleet(1);
  const CalendarRun run = RunCalendar(fleet, 1, {});
  ASSERT_TRUE(run.first_event);
  EXPECT_GT(run.events, 0u);
  EXPECT_GT(run.analyses, 0u);
  EXPECT_EQ(run.extra_io_share, 0);
  EXPECT_EQ(run.peak_extra_io_share, 0);
}

TEST(CalendarSim, AdaptationStaysWithinTheExtraIoBudget) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const SimulatedFleet fleet = SmallFleet(seed);
    const CalendarRun run = RunCalendar(
        fleet, seed, {.adaptive = true, .policy = {.max_extra_io_share = 0.1}, .horizon_days = 60});
    ASSERT_TRUE(run.first_event) << seed;
    EXPECT_GT(run.peak_extra_io_share, 0) << seed;  // the victim, at least
    EXPECT_LE(run.peak_extra_io_share, 0.1 + 1e-9) << seed;
    EXPECT_LE(run.extra_io_share, run.peak_extra_io_share + 1e-9) << seed;
  }
}

TEST(CalendarSim, AdaptationFindsTheSameCorruptionsSoonerOnTheRightHosts) {
  const SimulatedFleet fleet = SmallFleet(2);
  // Never "found": every run goes the full 60 days after the first event.
  const CalendarOptions base{.horizon_days = 60, .confirmed_q = 1e-300};
  CalendarOptions adaptive = base;
  adaptive.adaptive = true;
  CalendarOptions aimed_wrong = adaptive;
  aimed_wrong.decide = MisdirectedBoosts;
  const CalendarRun without = RunCalendar(fleet, 2, base);
  const CalendarRun with = RunCalendar(fleet, 2, adaptive);
  const CalendarRun wrong = RunCalendar(fleet, 2, aimed_wrong);
  EXPECT_EQ(without.first_event_day, with.first_event_day);
  EXPECT_EQ(without.days_to_found, with.days_to_found);
  EXPECT_FALSE(with.found);
  // Every epoch's corruptions come at the same cumulative hazard; a boost of
  // affected hosts only reaches them sooner, one of other hosts does not.
  EXPECT_GT(with.events, without.events);
  EXPECT_GE(with.events, wrong.events + 3);
  // Most of the extra bytes land on the cause's epochs, which hold a few
  // percent of the baseline; aimed wrong, about their share.
  EXPECT_GT(with.extra_io_on_affected, 10 * with.affected_baseline_share);
  EXPECT_LT(wrong.extra_io_on_affected, 3 * wrong.affected_baseline_share);
}

TEST(CalendarSim, BackgroundCorruptionsComeOnAnyHostAndCountAsEvents) {
  SimulatedFleet fleet = Simulate({.seed = 4, .vms = 300, .config_options = 50, .days = 120});
  ASSERT_FALSE(fleet.cause.has_value());
  const CalendarRun quiet = RunCalendar(fleet, 4, {.horizon_days = 60});
  EXPECT_FALSE(quiet.first_event);  // no cause, no background: nothing ever happens
  const CalendarOptions null_run{.background_per_week = 2, .horizon_days = 60};
  const CalendarRun run = RunCalendar(fleet, 4, null_run);
  ASSERT_TRUE(run.first_event);
  EXPECT_EQ(run.events, 0u);
  EXPECT_GT(run.background_events, 0u);
  EXPECT_FALSE(run.found);
  // In a null run any significant suspect is a false one.
  EXPECT_EQ(run.wrong_significant, run.significant);
}

TEST(CalendarSim, BoostedHostsFindBackgroundCorruptionsSooner) {
  SimulatedFleet fleet = Simulate({.seed = 5, .vms = 300, .config_options = 50, .days = 200});
  // Never "significant": both runs go the full 60 days.
  const CalendarOptions base{.background_per_week = 2, .horizon_days = 60, .confirmed_q = 1e-300};
  CalendarOptions adaptive = base;
  adaptive.adaptive = true;
  const CalendarRun without = RunCalendar(fleet, 5, base);
  const CalendarRun with = RunCalendar(fleet, 5, adaptive);
  EXPECT_EQ(without.first_event_day, with.first_event_day);
  EXPECT_GT(with.extra_io_share, 0);
  EXPECT_GT(with.background_events, without.background_events);
}

TEST(CalendarSim, SameSeedSameRun) {
  const SimulatedFleet fleet = SmallFleet(3);
  const CalendarRun a = RunCalendar(fleet, 3, {.adaptive = true});
  const CalendarRun b = RunCalendar(fleet, 3, {.adaptive = true});
  EXPECT_EQ(a.days_to_found, b.days_to_found);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.extra_io_share, b.extra_io_share);
}

}  // namespace
}  // namespace fscanary::fleet_sim
