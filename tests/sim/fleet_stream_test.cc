// A simulated fleet streamed to a collector as agents would, then analysed
// live, names the same cause as the offline analysis of the same fleet: the
// facts agents send become the attributes the engine correlates on.
#include "tests/sim/fleet_stream.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "collector/analysis/analysis.h"
#include "collector/fleet/host_attributes.h"
#include "collector/service/server.h"
#include "collector/store/epoch_facts.h"
#include "metrics/registry.h"
#include "tests/temp_dir.h"

namespace fscanary::fleet_sim {
namespace {

// The host attributes of a suspect, as "name=value" (config options and the
// derived kernel series left out: those may be named by alias).
std::set<std::string> HostItems(const analysis::Suspect& suspect) {
  std::set<std::string> items;
  for (const analysis::AttributeValue& item : suspect.attributes) {
    if (item.attribute.rfind("CONFIG_", 0) == 0 || item.attribute == "kernel_series") continue;
    items.insert(item.attribute + "=" + item.value);
  }
  return items;
}

TEST(FleetStream, LiveAnalysisOfAStreamedFleetNamesThePlantedCauseLikeOffline) {
  const SimulatedFleet simulated = Simulate({.seed = 7,
                                             .vms = 300,
                                             .config_options = 100,
                                             .days = 120,
                                             .cause = Cause2018(/*events_per_week=*/3),
                                             .stop_after_events = 12});
  ASSERT_GE(simulated.planted_events, 5u);

  fscanary::testing::TempDir dir;
  auto store = store::OpenSqliteStore({.path = dir.Join("collector.db")});
  ASSERT_TRUE(store.ok()) << store.status();
  metrics::Registry registry;
  auto server = collector::CollectorServer::Start({.listen = "127.0.0.1:0"}, **store, registry);
  ASSERT_TRUE(server.ok()) << server.status();
  const absl::Status streamed =
      StreamFleet(simulated, {.address = "127.0.0.1:" + std::to_string((*server)->port()),
                              .start_unix_nanos = int64_t{1'700'000'000} * 1'000'000'000});
  ASSERT_TRUE(streamed.ok()) << streamed;

  const auto epochs = (*store)->ListEpochs();
  ASSERT_TRUE(epochs.ok()) << epochs.status();
  // The simulator also splits epochs where nothing an agent reports changed
  // (an upgrade past the last release, a scheduler "switch" to the same one);
  // the store keeps one epoch for those.
  size_t observable_epochs = 0;
  std::map<uint32_t, std::string> last_facts;
  for (const SimEpoch& epoch : simulated.epochs) {
    const std::string facts = store::SerializeDeterministic(FactsOf(simulated, epoch));
    auto [it, first] = last_facts.try_emplace(epoch.vm, facts);
    if (first || it->second != facts) ++observable_epochs;
    it->second = facts;
  }
  EXPECT_EQ(epochs->size(), observable_epochs);
  const auto live_fleet = fleet::BuildFleet(*epochs);
  ASSERT_TRUE(live_fleet.ok()) << live_fleet.status();
  EXPECT_TRUE(live_fleet->skipped.empty());
  const auto live = analysis::AnalyzeFleet(live_fleet->fleet, {});
  ASSERT_TRUE(live.ok()) << live.status();
  const auto offline_fleet = ToFleet(simulated);
  ASSERT_TRUE(offline_fleet.ok());
  const auto offline = analysis::AnalyzeFleet(*offline_fleet, {});
  ASSERT_TRUE(offline.ok());

  EXPECT_EQ(live->events, offline->events);
  ASSERT_FALSE(offline->suspects.empty());
  ASSERT_FALSE(live->suspects.empty());
  // Both name the planted cause's observable conditions (the engine may pick
  // other members of an alias group or an indistinguishable alternative for
  // the rest, and says so).
  for (const analysis::AnalysisResult* result : {&*live, &*offline}) {
    const std::set<std::string> items = HostItems(result->suspects.front());
    EXPECT_TRUE(items.contains("scheduler=none")) << result->suspects.front().explanation;
    EXPECT_TRUE(items.contains("driver=virtio_scsi")) << result->suspects.front().explanation;
    EXPECT_EQ(result->suspects.front().events, result->events);
  }
  (*server)->Shutdown();
}

}  // namespace
}  // namespace fscanary::fleet_sim
