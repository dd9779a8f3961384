#include "tests/sim/fleet_sim.h"

#include <set>
#include <sstream>

#include "collector/analysis/jsonl_reader.h"
#include "gtest/gtest.h"
#include "tests/sim/judge_2018.h"

namespace fscanary::fleet_sim {
namespace {

SimOptions Small(uint64_t seed) {
  return {.seed = seed, .vms = 300, .config_options = 200, .days = 120};
}

TEST(FleetSim, SameSeedGivesTheSameFleet) {
  std::ostringstream a;
  std::ostringstream b;
  WriteJsonl(Simulate(Small(7)), a);
  WriteJsonl(Simulate(Small(7)), b);
  EXPECT_EQ(a.str(), b.str());
  std::ostringstream c;
  WriteJsonl(Simulate(Small(8)), c);
  EXPECT_NE(a.str(), c.str());
}

TEST(FleetSim, UpgradesStartNewEpochsOnNewerKernels) {
  const SimulatedFleet fleet = Simulate(Small(3));
  EXPECT_GT(fleet.epochs.size(), 300u);
  std::set<uint32_t> vms;
  for (const SimEpoch& epoch : fleet.epochs) {
    vms.insert(epoch.vm);
    EXPECT_LT(epoch.start_day, epoch.end_day);
    EXPECT_GT(epoch.exposure_bytes, 0);
  }
  EXPECT_EQ(vms.size(), 300u);
}

TEST(FleetSim, SchedulerNoneOnlyExistsWithBlkMq) {
  const SimulatedFleet fleet = Simulate(Small(4));
  size_t none = 0;
  for (const SimEpoch& epoch : fleet.epochs) {
    if (fleet.ValueOf(epoch, "scheduler") == "none") {
      ++none;
      EXPECT_EQ(fleet.ValueOf(epoch, "blk_mq"), "on");
    }
    if (fleet.ValueOf(epoch, "blk_mq") == "off") {
      EXPECT_NE(fleet.ValueOf(epoch, "scheduler"), "mq-deadline");
    }
  }
  EXPECT_GT(none, 0u);
}

TEST(FleetSim, PlantedEventsOnlyHitTheCause) {
  SimOptions options = Small(5);
  options.cause = Cause2018(/*events_per_week=*/3);
  const SimulatedFleet fleet = Simulate(options);
  EXPECT_GT(fleet.planted_events, 0u);
  uint64_t planted = 0;
  for (const SimEpoch& epoch : fleet.epochs) {
    if (epoch.planted_events > 0) {
      EXPECT_TRUE(epoch.affected);
    }
    if (epoch.affected) {
      EXPECT_EQ(fleet.ValueOf(epoch, "scheduler"), "none");
      EXPECT_EQ(fleet.ValueOf(epoch, "driver"), "virtio_scsi");
    }
    planted += epoch.planted_events;
  }
  EXPECT_EQ(planted, fleet.planted_events);
}

TEST(FleetSim, ParsesAnyConjunctionAsACause) {
  absl::StatusOr<PlantedCause> cause =
      ParseCause("scheduler=none, kernel=4.19-rc1..4.19.7,fs=xfs", /*events_per_week=*/2);
  ASSERT_TRUE(cause.ok()) << cause.status();
  ASSERT_EQ(cause->conditions.size(), 3u);
  EXPECT_EQ(cause->conditions[0].equals, "none");
  EXPECT_EQ(cause->conditions[1].kernel_from, "4.19-rc1");
  EXPECT_EQ(cause->conditions[1].kernel_to, "4.19.7");
  EXPECT_EQ(cause->conditions[2].attribute, "fs");
  EXPECT_EQ(cause->events_per_week, 2);
  EXPECT_FALSE(ParseCause("scheduler").ok());
  EXPECT_FALSE(ParseCause("kernel=4.19..linux").ok());
  EXPECT_FALSE(ParseCause("").ok());
}

TEST(FleetSim, PlantedConfigOptionCauseHitsOnlyItsHosts) {
  SimOptions options = Small(11);
  options.cause = *ParseCause("fs=xfs,CONFIG_SCSI_MQ_DEFAULT=y", /*events_per_week=*/5);
  const SimulatedFleet fleet = Simulate(options);
  EXPECT_GT(fleet.planted_events, 0u);
  for (const SimEpoch& epoch : fleet.epochs) {
    if (epoch.planted_events == 0) continue;
    EXPECT_EQ(fleet.ValueOf(epoch, "fs"), "xfs");
    EXPECT_EQ(fleet.ValueOf(epoch, "CONFIG_SCSI_MQ_DEFAULT"), "y");
  }
}

TEST(FleetSim, StoppingAfterEventsCutsTheTimelineAtTheLastOne) {
  SimOptions options = Small(6);
  options.background_events_per_week = 2;
  options.stop_after_events = 4;
  const SimulatedFleet fleet = Simulate(options);
  EXPECT_EQ(fleet.background_events, 4u);
  EXPECT_LT(fleet.end_day, options.days);
  for (const SimEpoch& epoch : fleet.epochs) EXPECT_LE(epoch.end_day, fleet.end_day);
}

TEST(FleetSim, ConfigOptionsMostlyFollowTheKernelBuild) {
  const SimulatedFleet fleet = Simulate(Small(9));
  // Builds of one release differ only for custom variants: far fewer builds than epochs.
  EXPECT_LT(fleet.builds.size(), fleet.epochs.size() / 2);
  EXPECT_EQ(fleet.option_names.size(), 200u);
}

TEST(FleetSim, JsonLinesReadBackIntoTheSameFleet) {
  SimOptions options = Small(10);
  options.background_events_per_week = 1;
  const SimulatedFleet simulated = Simulate(options);
  std::stringstream lines;
  WriteJsonl(simulated, lines);
  absl::StatusOr<analysis::JsonlFleet> read = analysis::ReadFleetJsonl(lines, {});
  ASSERT_TRUE(read.ok()) << read.status();
  absl::StatusOr<analysis::Fleet> direct = ToFleet(simulated);
  ASSERT_TRUE(direct.ok()) << direct.status();
  EXPECT_EQ(read->fleet.epoch_count(), direct->epoch_count());
  EXPECT_EQ(read->fleet.host_count(), direct->host_count());
  uint64_t read_events = 0;
  uint64_t direct_events = 0;
  for (const auto& c : read->fleet.corruptions()) read_events += c.count;
  for (const auto& c : direct->corruptions()) direct_events += c.count;
  EXPECT_EQ(read_events, simulated.background_events);
  EXPECT_EQ(direct_events, simulated.background_events);
}

analysis::Suspect Named(std::vector<analysis::AttributeValue> attributes) {
  return {.attributes = std::move(attributes)};
}

TEST(Judge, AnyPlantedCauseIsNamedOnlyWhenEveryConditionIs) {
  const absl::StatusOr<PlantedCause> cause = ParseCause("fs=xfs,mount_discard=on");
  ASSERT_TRUE(cause.ok()) << cause.status();
  EXPECT_TRUE(NamesCause(Named({{"fs", "xfs"}, {"mount_discard", "on"}}), *cause));
  EXPECT_FALSE(NamesCause(Named({{"fs", "xfs"}}), *cause));  // broader: not named yet
  EXPECT_FALSE(NamesCause(Named({{"fs", "xfs"}, {"mount_discard", "on"}, {"region", "sa-east-1"}}),
                          *cause));  // an item the cause does not hold
  EXPECT_TRUE(TouchesCause(Named({{"fs", "xfs"}, {"region", "sa-east-1"}}), *cause));
  EXPECT_FALSE(TouchesCause(Named({{"fs", "ext4"}, {"region", "sa-east-1"}}), *cause));
}

TEST(Judge, KernelRangeConditionIsNamedByReleaseSeriesOrRange) {
  const analysis::Suspect by_range = Named({{"kernel_range", "4.19-rc1..4.19.7"},
                                            {"driver", "virtio_scsi"},
                                            {"scheduler", "none"},
                                            {"blk_mq", "on"}});
  EXPECT_TRUE(NamesCause2018(by_range));
  analysis::Suspect by_series = by_range;
  by_series.attributes[0] = {"kernel_series", "4.19"};
  EXPECT_TRUE(NamesCause2018(by_series));
  analysis::Suspect outside = by_range;
  outside.attributes[0] = {"kernel", "4.19.8"};
  EXPECT_FALSE(NamesCause2018(outside));
  outside.attributes[0] = {"kernel", "4.19.5"};
  EXPECT_TRUE(NamesCause2018(outside));
}

}  // namespace
}  // namespace fscanary::fleet_sim
