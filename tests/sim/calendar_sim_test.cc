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

TEST(CalendarSim, AdaptationFindsTheSameCorruptionsSooner) {
  const SimulatedFleet fleet = SmallFleet(2);
  // Never "found": both runs go the full 60 days after the first event.
  const CalendarOptions base{.horizon_days = 60, .confirmed_q = 1e-300};
  CalendarOptions adaptive = base;
  adaptive.adaptive = true;
  const CalendarRun without = RunCalendar(fleet, 2, base);
  const CalendarRun with = RunCalendar(fleet, 2, adaptive);
  EXPECT_EQ(without.first_event_day, with.first_event_day);
  EXPECT_EQ(without.days_to_found, with.days_to_found);
  EXPECT_FALSE(with.found);
  // Every epoch's corruptions come at the same cumulative hazard; a boost
  // only reaches them sooner.
  EXPECT_GT(with.events, without.events);
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
