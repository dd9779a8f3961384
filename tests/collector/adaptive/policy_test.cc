// The adaptive-verification rule, case by case, on a hand-built fleet of 100
// hosts with equal baseline I/O: 5 on the suspect configuration (4.19.5, SCSI,
// scheduler none), 5 on 4.19.5 with another scheduler, 90 on 5.10. Most
// cases trust a lone victim (independent_victims 1), to test one rule at a
// time; the trust cap has cases of its own at the end.
#include "collector/adaptive/policy.h"

#include <map>
#include <string>

#include "gtest/gtest.h"

namespace fscanary::adaptive {
namespace {

using analysis::AnalysisResult;
using analysis::AttributeValue;
using analysis::Suspect;

constexpr double kDay = 86400;
constexpr double kNow = 100 * kDay;

class FakeFleet : public FleetNow {
 public:
  using Attributes = std::map<std::string, std::string, std::less<>>;
  size_t Add(Attributes attributes, double io = 1) {
    hosts_.push_back({std::move(attributes), io});
    return hosts_.size() - 1;
  }
  size_t host_count() const override { return hosts_.size(); }
  double baseline_io(size_t host) const override { return hosts_[host].io; }
  std::optional<std::string_view> ValueOf(size_t host, std::string_view name) const override {
    const auto it = hosts_[host].attributes.find(name);
    if (it == hosts_[host].attributes.end()) return std::nullopt;
    return it->second;
  }

 private:
  struct Host {
    Attributes attributes;
    double io = 1;
  };
  std::vector<Host> hosts_;
};

FakeFleet HundredHosts() {
  FakeFleet fleet;
  for (int i = 0; i < 5; ++i) {
    fleet.Add({{"kernel", "4.19.5"}, {"scheduler", "none"}, {"driver", "virtio_scsi"}});
  }
  for (int i = 0; i < 5; ++i) {
    fleet.Add({{"kernel", "4.19.5"}, {"scheduler", "mq-deadline"}, {"driver", "virtio_scsi"}});
  }
  for (int i = 0; i < 90; ++i) {
    fleet.Add({{"kernel", "5.10.0"}, {"scheduler", "mq-deadline"}, {"driver", "virtio_blk"}});
  }
  return fleet;
}

Suspect Lead(std::vector<AttributeValue> attributes, double p = 1e-6, double q = 0.3) {
  return {.attributes = std::move(attributes), .p_value = p, .q_value = q};
}

const std::vector<AttributeValue> kSuspectConfiguration = {
    {"kernel_range", "4.19-rc1..4.19.7"}, {"driver", "virtio_scsi"}, {"scheduler", "none"}};

AnalysisResult Result(std::vector<Suspect> suspects) { return {.suspects = std::move(suspects)}; }

Decision Decide(const FleetNow& fleet, std::vector<Corruption> corruptions,
                const AnalysisResult& analysis,
                PolicyOptions options = {.max_factor = 3, .independent_victims = 1},
                double now = kNow) {
  absl::StatusOr<Decision> decision = DecideBoosts(fleet, corruptions, analysis, now, options);
  EXPECT_TRUE(decision.ok()) << decision.status();
  return decision.ok() ? *std::move(decision) : Decision{};
}

TEST(AdaptivePolicy, VictimOfARecentCorruptionIsBoosted) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision = Decide(fleet, {{.host = 2, .time_s = kNow - kDay}}, Result({}));
  EXPECT_EQ(decision.factors[2], 3);
  for (size_t host = 0; host < 100; ++host) {
    if (host == 2) continue;
    EXPECT_EQ(decision.factors[host], 1) << host;
  }
  EXPECT_EQ(decision.victims_boosted, 1u);
  EXPECT_DOUBLE_EQ(decision.extra_io_share, 0.02);
}

TEST(AdaptivePolicy, NoCorruptionNoSuspectNoBoost) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision = Decide(fleet, {}, Result({}));
  for (const double factor : decision.factors) EXPECT_EQ(factor, 1);
  EXPECT_EQ(decision.extra_io_share, 0);
}

TEST(AdaptivePolicy, HostsSharingTheTopSuspectAreBoostedAndOthersAreNot) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision =
      Decide(fleet, {{.host = 2, .time_s = kNow - kDay}}, Result({Lead(kSuspectConfiguration)}));
  // The derived kernel range matches 4.19.5; the other scheduler and kernel do not.
  for (size_t host = 0; host < 5; ++host) EXPECT_EQ(decision.factors[host], 3) << host;
  for (size_t host = 5; host < 100; ++host) EXPECT_EQ(decision.factors[host], 1) << host;
  ASSERT_EQ(decision.leads.size(), 1u);
  EXPECT_EQ(decision.leads[0].state, LeadState::kBoosted);
  EXPECT_EQ(decision.leads[0].hosts, 5u);
  EXPECT_EQ(decision.sharers_boosted, 4u);
}

TEST(AdaptivePolicy, KernelSeriesIsDerivedFromTheRelease) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision =
      Decide(fleet, {{.host = 7, .time_s = kNow}},
             Result({Lead({{"kernel_series", "4.19"}, {"driver", "virtio_scsi"}})}));
  for (size_t host = 0; host < 10; ++host) EXPECT_EQ(decision.factors[host], 3) << host;
  EXPECT_EQ(decision.factors[10], 1);
}

TEST(AdaptivePolicy, OnlyTheTopLeadsAreBoosted) {
  const FakeFleet fleet = HundredHosts();
  const AnalysisResult analysis = Result(
      {Lead(kSuspectConfiguration), Lead({{"kernel", "4.19.5"}, {"scheduler", "mq-deadline"}})});
  // Host 8 (second lead) saw a corruption ten days ago: no longer a victim, not yet faded.
  const std::vector<Corruption> corruptions = {{.host = 0, .time_s = kNow},
                                               {.host = 8, .time_s = kNow - 10 * kDay}};
  const Decision one = Decide(fleet, corruptions, analysis);
  EXPECT_EQ(one.factors[7], 1);
  EXPECT_EQ(one.leads.size(), 1u);
  const Decision two =
      Decide(fleet, corruptions, analysis, {.max_factor = 3, .leads = 2, .independent_victims = 1});
  EXPECT_EQ(two.factors[7], 3);
  EXPECT_EQ(two.factors[8], 3);
  EXPECT_EQ(two.factors[20], 1);
}

TEST(AdaptivePolicy, NeighboursOfAVictimAreBoostedWhenAsked) {
  const FakeFleet fleet = HundredHosts();
  const std::vector<Corruption> corruptions = {{.host = 0, .time_s = kNow}};
  EXPECT_EQ(Decide(fleet, corruptions, Result({})).factors[7], 1);
  const Decision decision = Decide(
      fleet, corruptions, Result({}),
      {.max_factor = 3, .neighbourhoods = {{"kernel_series", "driver"}}, .independent_victims = 1});
  // 4.19 (derived from 4.19.5) on virtio_scsi: hosts 0 to 9; the victim is one of them.
  for (size_t host = 0; host < 10; ++host) EXPECT_EQ(decision.factors[host], 3) << host;
  EXPECT_EQ(decision.factors[10], 1);
  EXPECT_EQ(decision.neighbours_boosted, 9u);
}

TEST(AdaptivePolicy, DenserNeighbourhoodsAreServedFirst) {
  const FakeFleet fleet = HundredHosts();
  // Budget 20: the victim takes 9, its 4 storage-stack neighbours 36 would
  // exceed it, so they share 11; nothing is left for the rest of 4.19.
  const Decision decision =
      Decide(fleet, {{.host = 0, .time_s = kNow}}, Result({}),
             {.max_factor = 10,
              .neighbourhoods = {{"kernel_series"}, {"kernel_series", "scheduler"}},
              .independent_victims = 1});
  EXPECT_EQ(decision.factors[0], 10);
  EXPECT_NEAR(decision.factors[1], 1 + 11.0 / 4, 1e-12);
  EXPECT_EQ(decision.factors[5], 1);
  EXPECT_NEAR(decision.extra_io_share, 0.2, 1e-12);
}

TEST(AdaptivePolicy, ExtraIoIsCappedByTheFleetBudget) {
  const FakeFleet fleet = HundredHosts();
  // 90 hosts share this lead: at factor 10 they would add 810% of the baseline.
  const Decision decision =
      Decide(fleet, {{.host = 50, .time_s = kNow}}, Result({Lead({{"kernel", "5.10.0"}})}),
             {.max_factor = 10, .max_extra_io_share = 0.2});
  EXPECT_NEAR(decision.extra_io_share, 0.2, 1e-12);
  // The victim is served first (factor 10, 9 of the 20 units), the other 89
  // share what remains at one factor.
  EXPECT_EQ(decision.factors[50], 10);
  EXPECT_NEAR(decision.factors[51], 1 + 11.0 / 89, 1e-12);
  EXPECT_EQ(decision.factors[0], 1);
}

TEST(AdaptivePolicy, BudgetIsMeasuredInBaselineIo) {
  FakeFleet fleet;
  const size_t busy = fleet.Add({{"kernel", "4.19.5"}}, /*io=*/50);
  const size_t idle = fleet.Add({{"kernel", "5.10.0"}}, /*io=*/50);
  const Decision decision = Decide(fleet, {{.host = busy, .time_s = kNow}}, Result({}),
                                   {.max_factor = 10, .max_extra_io_share = 0.2});
  // 20% of 100 units is 20 extra units: factor 1.4 on a host doing 50.
  EXPECT_NEAR(decision.factors[busy], 1.4, 1e-12);
  EXPECT_EQ(decision.factors[idle], 1);
}

TEST(AdaptivePolicy, ConfirmedSuspectIsLoweredBack) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision = Decide(fleet, {{.host = 0, .time_s = kNow - 8 * kDay}},
                                   Result({Lead(kSuspectConfiguration, /*p=*/1e-12, /*q=*/0.001)}));
  for (const double factor : decision.factors) EXPECT_EQ(factor, 1);
  EXPECT_EQ(decision.leads[0].state, LeadState::kConfirmed);
}

TEST(AdaptivePolicy, RefutedSuspectIsLoweredBack) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision = Decide(fleet, {{.host = 0, .time_s = kNow - 8 * kDay}},
                                   Result({Lead(kSuspectConfiguration, /*p=*/0.2, /*q=*/1)}));
  for (const double factor : decision.factors) EXPECT_EQ(factor, 1);
  EXPECT_EQ(decision.leads[0].state, LeadState::kRefuted);
}

TEST(AdaptivePolicy, LeadWithoutRecentEventsFades) {
  const FakeFleet fleet = HundredHosts();
  const AnalysisResult analysis = Result({Lead(kSuspectConfiguration)});
  const std::vector<Corruption> corruptions = {{.host = 0, .time_s = kNow - 13 * kDay}};
  EXPECT_EQ(Decide(fleet, corruptions, analysis).factors[3], 3);
  const Decision later = Decide(fleet, corruptions, analysis,
                                {.max_factor = 3, .independent_victims = 1}, kNow + 2 * kDay);
  for (const double factor : later.factors) EXPECT_EQ(factor, 1);
  EXPECT_EQ(later.leads[0].state, LeadState::kFaded);
}

TEST(AdaptivePolicy, VictimBoostEndsAfterItsWindow) {
  const FakeFleet fleet = HundredHosts();
  const std::vector<Corruption> corruptions = {{.host = 60, .time_s = kNow - 6 * kDay}};
  EXPECT_EQ(Decide(fleet, corruptions, Result({})).factors[60], 3);
  EXPECT_EQ(Decide(fleet, corruptions, Result({}), {.max_factor = 3}, kNow + 2 * kDay).factors[60],
            1);
}

TEST(AdaptivePolicy, SameInputsGiveTheSameDecision) {
  const FakeFleet fleet = HundredHosts();
  const AnalysisResult analysis = Result({Lead({{"kernel", "5.10.0"}})});
  const std::vector<Corruption> corruptions = {{.host = 50, .time_s = kNow}};
  EXPECT_EQ(Decide(fleet, corruptions, analysis).factors,
            Decide(fleet, corruptions, analysis).factors);
}

TEST(AdaptivePolicy, OptionsOutOfRangeAreRefused) {
  const FakeFleet fleet = HundredHosts();
  for (const PolicyOptions& options :
       {PolicyOptions{.max_factor = 0.5}, PolicyOptions{.max_extra_io_share = -1},
        PolicyOptions{.fade_after_s = -1}, PolicyOptions{.confirmed_q = 0},
        PolicyOptions{.independent_victims = 0}, PolicyOptions{.lone_victim_factor = 0.5}}) {
    const absl::StatusOr<Decision> decision = DecideBoosts(fleet, {}, Result({}), kNow, options);
    EXPECT_EQ(decision.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(AdaptivePolicy, CorruptionOnAnUnknownHostIsRefused) {
  const FakeFleet fleet = HundredHosts();
  const std::vector<Corruption> corruptions = {{.host = 100, .time_s = kNow}};
  const absl::StatusOr<Decision> decision = DecideBoosts(fleet, corruptions, Result({}), kNow, {});
  EXPECT_EQ(decision.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(decision.status().message().find("host 100"), std::string::npos);
}

// The trust boundary: one agent may forge findings. What it can make others
// verify is bounded by lone_victim_factor, whatever it reports.
const PolicyOptions kGuarded = {.max_factor = 10,
                                .max_extra_io_share = 5,
                                .neighbourhoods = {{"kernel_series", "driver"}},
                                .independent_victims = 2,
                                .lone_victim_factor = 2};

TEST(AdaptivePolicy, LoneVictimRaisesItsNeighboursAtMostTheLoneFactor) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision = Decide(fleet, {{.host = 0, .time_s = kNow}}, Result({}), kGuarded);
  EXPECT_EQ(decision.factors[0], 10);  // its own host: its own cost
  for (size_t host = 1; host < 10; ++host) EXPECT_EQ(decision.factors[host], 2) << host;
  EXPECT_EQ(decision.factors[10], 1);
  EXPECT_EQ(decision.groups_capped, 1u);
}

TEST(AdaptivePolicy, ManyFindingsFromOneHostCountAsOneVictim) {
  const FakeFleet fleet = HundredHosts();
  std::vector<Corruption> forged;
  for (int i = 0; i < 50; ++i) forged.push_back({.host = 2, .time_s = kNow - i * 3600.0});
  Suspect lead = Lead(kSuspectConfiguration);
  lead.events = 50;
  const Decision decision = Decide(fleet, forged, Result({lead}), kGuarded);
  EXPECT_EQ(decision.factors[2], 10);
  for (size_t host = 0; host < 100; ++host) {
    if (host != 2) {
      EXPECT_LE(decision.factors[host], 2) << host;
    }
  }
  EXPECT_EQ(decision.groups_capped, 2u);  // the lead's hosts and the neighbourhood
}

TEST(AdaptivePolicy, IndependentVictimsLiftTheCap) {
  const FakeFleet fleet = HundredHosts();
  const Decision decision =
      Decide(fleet, {{.host = 0, .time_s = kNow}, {.host = 7, .time_s = kNow - kDay}}, Result({}),
             kGuarded);
  for (size_t host = 0; host < 10; ++host) EXPECT_EQ(decision.factors[host], 10) << host;
  EXPECT_EQ(decision.factors[10], 1);
  EXPECT_EQ(decision.groups_capped, 0u);
}

TEST(AdaptivePolicy, LeadWhoseEventsCameFromOneHostIsCapped) {
  const FakeFleet fleet = HundredHosts();
  Suspect lead = Lead(kSuspectConfiguration);
  lead.events = 3;
  // One old corruption (out of the victim window) on one of its hosts.
  const std::vector<Corruption> one = {{.host = 1, .time_s = kNow - 10 * kDay}};
  const PolicyOptions no_neighbours = {.max_factor = 10, .max_extra_io_share = 5};
  EXPECT_EQ(Decide(fleet, one, Result({lead}), no_neighbours).factors[3], 2);
  const std::vector<Corruption> two = {{.host = 1, .time_s = kNow - 10 * kDay},
                                       {.host = 4, .time_s = kNow - 9 * kDay}};
  EXPECT_EQ(Decide(fleet, two, Result({lead}), no_neighbours).factors[3], 10);
}

}  // namespace
}  // namespace fscanary::adaptive
