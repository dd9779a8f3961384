// The collector's boost as the agent lets it act: clamped to the agent's
// ceiling, lapsing when not renewed.
#include "agent/daemon/boost.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace fscanary::daemon {
namespace {

constexpr uint64_t kLapseNs = 60'000'000'000;
constexpr uint64_t kNow = 1'000'000'000'000;

TEST(Boost, NoHintMeansTheConfiguredRate) {
  const Boost boost(/*ceiling=*/4, kLapseNs);
  EXPECT_EQ(boost.InForce(kNow), 1);
}

TEST(Boost, AHintWithinTheCeilingIsTakenAsIs) {
  Boost boost(/*ceiling=*/4, kLapseNs);
  boost.Offer(2.5, kNow);
  EXPECT_EQ(boost.InForce(kNow), 2.5);
}

TEST(Boost, AHintAboveTheCeilingIsClampedToIt) {
  Boost boost(/*ceiling=*/4, kLapseNs);
  boost.Offer(10, kNow);
  EXPECT_EQ(boost.InForce(kNow), 4);
  boost.Offer(std::numeric_limits<double>::infinity(), kNow);
  EXPECT_EQ(boost.InForce(kNow), 4);
}

TEST(Boost, ACeilingOfOneIgnoresEveryHint) {
  Boost boost(/*ceiling=*/1, kLapseNs);
  boost.Offer(10, kNow);
  EXPECT_EQ(boost.InForce(kNow), 1);
}

TEST(Boost, FactorsBelowOneOrNotANumberEndTheBoost) {
  Boost boost(/*ceiling=*/4, kLapseNs);
  for (const double none : {0.0, 0.5, -3.0, std::nan("")}) {
    boost.Offer(3, kNow);
    boost.Offer(none, kNow + 1);
    EXPECT_EQ(boost.InForce(kNow + 1), 1) << none;
  }
}

TEST(Boost, LapsesWhenNotRenewed) {
  Boost boost(/*ceiling=*/4, kLapseNs);
  boost.Offer(3, kNow);
  EXPECT_EQ(boost.InForce(kNow + kLapseNs - 1), 3);
  EXPECT_EQ(boost.InForce(kNow + kLapseNs), 1);
}

TEST(Boost, ARenewalStartsTheLapseAgain) {
  Boost boost(/*ceiling=*/4, kLapseNs);
  boost.Offer(3, kNow);
  boost.Offer(3, kNow + kLapseNs / 2);
  EXPECT_EQ(boost.InForce(kNow + kLapseNs), 3);
  EXPECT_EQ(boost.InForce(kNow + kLapseNs / 2 + kLapseNs), 1);
}

}  // namespace
}  // namespace fscanary::daemon
