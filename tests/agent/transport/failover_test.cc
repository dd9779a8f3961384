// The sender's connection choice: which collector next, and how long to wait.
#include "agent/transport/failover.h"

#include <gtest/gtest.h>

#include <vector>

namespace fscanary::transport {
namespace {

TEST(Failover, AFailedStreamMovesToTheNextAddressAndWrapsAround) {
  Failover failover(/*addresses=*/3, /*backoff_initial_ms=*/100, /*backoff_max_ms=*/10'000);
  EXPECT_EQ(failover.current(), 0u);
  failover.StreamEnded(/*healthy=*/false);
  EXPECT_EQ(failover.current(), 1u);
  failover.StreamEnded(/*healthy=*/false);
  EXPECT_EQ(failover.current(), 2u);
  failover.StreamEnded(/*healthy=*/false);
  EXPECT_EQ(failover.current(), 0u);
}

TEST(Failover, AHealthyStreamThatEndsAlsoMovesOn) {
  // Its collector was killed: the next one is where the records can go.
  Failover failover(2, 100, 10'000);
  failover.StreamEnded(/*healthy=*/true);
  EXPECT_EQ(failover.current(), 1u);
}

TEST(Failover, BackoffDoublesOnlyAfterEveryAddressFailedInARow) {
  Failover failover(2, 100, 10'000);
  std::vector<int> waits;
  for (int i = 0; i < 6; ++i) waits.push_back(failover.StreamEnded(false));
  // A dead collector costs one short wait before the other is tried.
  EXPECT_EQ(waits, (std::vector<int>{100, 100, 200, 200, 400, 400}));
}

TEST(Failover, WithOneAddressItIsPlainExponentialBackoffUpToTheMaximum) {
  Failover failover(1, 100, 500);
  std::vector<int> waits;
  for (int i = 0; i < 5; ++i) waits.push_back(failover.StreamEnded(false));
  EXPECT_EQ(waits, (std::vector<int>{100, 200, 400, 500, 500}));
  EXPECT_EQ(failover.current(), 0u);
}

TEST(Failover, AHealthyStreamResetsTheBackoff) {
  Failover failover(2, 100, 10'000);
  for (int i = 0; i < 4; ++i) failover.StreamEnded(false);
  EXPECT_EQ(failover.StreamEnded(true), 100);
  EXPECT_EQ(failover.StreamEnded(false), 100);
  EXPECT_EQ(failover.StreamEnded(false), 100);
  EXPECT_EQ(failover.StreamEnded(false), 200);
}

}  // namespace
}  // namespace fscanary::transport
