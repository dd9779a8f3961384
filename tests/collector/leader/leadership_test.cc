// Only the leader exports the fleet-level series; every collector says
// whether it leads.
#include "collector/leader/leadership.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

namespace fscanary::collector {
namespace {

// A lock whose next answers the test sets.
class ScriptedLock final : public store::LeaderLock {
 public:
  explicit ScriptedLock(absl::StatusOr<bool>* answer) : answer_(answer) {}
  absl::StatusOr<bool> Poll() override { return *answer_; }

 private:
  absl::StatusOr<bool>* answer_;
};

// One fleet-level series.
class FleetSeries final : public metrics::Collectable {
 public:
  std::vector<metrics::MetricFamily> Collect() const override {
    return {{.name = "fscanary_hosts", .help = "hosts", .series = {{.value = 3}}}};
  }
};

std::optional<double> Value(const std::vector<metrics::MetricFamily>& families,
                            const std::string& name) {
  for (const metrics::MetricFamily& family : families) {
    if (family.name == name && !family.series.empty()) return family.series.front().value;
  }
  return std::nullopt;
}

class LeadershipTest : public ::testing::Test {
 protected:
  absl::StatusOr<bool> answer_ = false;
  Leadership leadership_{std::make_unique<ScriptedLock>(&answer_)};
  LeaderOnly exported_{leadership_, std::make_shared<FleetSeries>()};
};

TEST_F(LeadershipTest, AFollowerExportsNoFleetSeriesAndSaysItDoesNotLead) {
  EXPECT_FALSE(leadership_.Poll());
  const auto families = exported_.Collect();
  EXPECT_EQ(Value(families, "fscanary_hosts"), std::nullopt);
  EXPECT_EQ(Value(families, "fscanary_collector_leader"), 0.0);
}

TEST_F(LeadershipTest, TheLeaderExportsTheFleetSeries) {
  answer_ = true;
  EXPECT_TRUE(leadership_.Poll());
  const auto families = exported_.Collect();
  EXPECT_EQ(Value(families, "fscanary_hosts"), 3.0);
  EXPECT_EQ(Value(families, "fscanary_collector_leader"), 1.0);
}

TEST_F(LeadershipTest, ALeaderThatCannotPollItsLockStopsExporting) {
  answer_ = true;
  ASSERT_TRUE(leadership_.Poll());
  answer_ = absl::UnavailableError("the database is gone");
  EXPECT_FALSE(leadership_.Poll());
  EXPECT_EQ(Value(exported_.Collect(), "fscanary_hosts"), std::nullopt);
  answer_ = true;
  EXPECT_TRUE(leadership_.Poll());
  EXPECT_EQ(Value(exported_.Collect(), "fscanary_hosts"), 3.0);
}

}  // namespace
}  // namespace fscanary::collector
