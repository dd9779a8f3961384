// The boosts decided from what the store holds: the victims and the hosts of
// the top suspect, not the rest of the fleet; none once the corruptions are
// older than the windows.
#include "collector/daemon/boost_decider.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::collector {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::OpenStore;
using store::testing::ReportRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1'800'000'000 * kSecond;

class BoostDeciderTest : public ::testing::Test {
 protected:
  BoostDeciderTest() : store_(OpenStore(dir_)) {
    options_.policy.max_factor = 8;
    options_.policy.max_extra_io_share = 100;
    options_.policy.victim_window_s = 60;
    options_.policy.fade_after_s = 60;
    // Four hosts cannot make q high enough for a lead that stands out.
    options_.policy.confirmed_q = 1e-100;
    options_.policy.lead_p = 0.05;
  }

  // A host on `kernel` and `scheduler` that verified `bytes`.
  void Host(const std::string& agent_id, const std::string& kernel, const std::string& scheduler,
            uint64_t bytes) {
    const int64_t at = kNow - 600 * kSecond;
    ASSERT_TRUE(
        store_->RecordHello(agent_id, HelloMessage(VmFacts(kernel, scheduler), at), at).ok());
    Ingest(*store_, agent_id, {ReportRecord(1, at, bytes)}, at);
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  BoostDeciderOptions options_;
};

TEST_F(BoostDeciderTest, VictimsAndTheTopSuspectsHostsAreBoostedThenNotOnceItFades) {
  for (const char* agent_id : {"a", "b", "c", "d"}) Host(agent_id, "4.19.2", "none", 100'000'000);
  for (const char* agent_id : {"x", "y", "z"}) Host(agent_id, "5.10.0", "mq-deadline", 1e10);
  Ingest(*store_, "a", {FindingRecord(2, kNow - 20 * kSecond)}, kNow - 20 * kSecond);
  Ingest(*store_, "b", {FindingRecord(2, kNow - 10 * kSecond)}, kNow - 10 * kSecond);

  const absl::StatusOr<DecidedBoosts> decided = DecideFromStore(*store_, kNow, options_);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->boosts,
            (std::map<std::string, double>{{"a", 8}, {"b", 8}, {"c", 8}, {"d", 8}}));
  EXPECT_EQ(decided->decision.victims_boosted, 2u);
  EXPECT_EQ(decided->decision.sharers_boosted, 2u);

  // A minute after the last corruption: the victims' window and the lead are over.
  const absl::StatusOr<DecidedBoosts> later =
      DecideFromStore(*store_, kNow + 60 * kSecond, options_);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_TRUE(later->boosts.empty());
}

TEST_F(BoostDeciderTest, ASingleCorruptionBoostsItsVictimOnly) {
  for (const char* agent_id : {"a", "b", "c"}) Host(agent_id, "4.19.2", "none", 100'000'000);
  for (const char* agent_id : {"x", "y", "z"}) Host(agent_id, "5.10.0", "mq-deadline", 1e10);
  Ingest(*store_, "a", {FindingRecord(2, kNow - 20 * kSecond)}, kNow - 20 * kSecond);

  const absl::StatusOr<DecidedBoosts> decided = DecideFromStore(*store_, kNow, options_);
  ASSERT_TRUE(decided.ok()) << decided.status();
  EXPECT_EQ(decided->boosts, (std::map<std::string, double>{{"a", 8}}));
}

TEST_F(BoostDeciderTest, AHostReportingHugeVerificationBuysTheFleetNoBudget) {
  options_.policy.max_extra_io_share = 0.2;
  std::vector<std::unique_ptr<fscanary::testing::TempDir>> fleets;
  const auto victim_factor = [&](double mallory_bytes) {
    fleets.push_back(std::make_unique<fscanary::testing::TempDir>());
    store_ = OpenStore(*fleets.back());
    for (const char* agent_id : {"a", "b", "c", "d", "e", "f"}) {
      Host(agent_id, "4.19.2", "none", 100'000'000);
    }
    Host("mallory", "5.10.0", "mq-deadline", mallory_bytes);
    Ingest(*store_, "a", {FindingRecord(2, kNow - 20 * kSecond)}, kNow - 20 * kSecond);
    const absl::StatusOr<DecidedBoosts> decided = DecideFromStore(*store_, kNow, options_);
    EXPECT_TRUE(decided.ok()) << decided.status();
    const auto boost = decided->boosts.find("a");
    return boost == decided->boosts.end() ? 1.0 : boost->second;
  };
  // Ten times the fleet's median counts as such; a billion times, no more.
  const double honest = victim_factor(1e9);
  EXPECT_GT(honest, 1);
  EXPECT_LT(honest, options_.policy.max_factor);
  EXPECT_EQ(victim_factor(1e17), honest);
}

}  // namespace
}  // namespace fscanary::collector
