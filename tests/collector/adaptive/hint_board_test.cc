// The board of boosts in force, and what each agent stream sends from it.
#include "collector/adaptive/hint_board.h"

#include <chrono>

#include "gtest/gtest.h"

namespace fscanary::adaptive {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kRenew = 60s;
const Clock::time_point kStart = Clock::time_point() + 1000h;

// The boost factor of the pending hint; nullopt when nothing is pending.
std::optional<double> Sent(HintStream& stream, Clock::time_point now) {
  const std::optional<v1::CollectorMessage> message = stream.Pending(now);
  if (!message.has_value()) return std::nullopt;
  EXPECT_TRUE(message->has_hint());
  return message->hint().boost_factor();
}

TEST(HintBoard, AStreamTellsItsAgentWhereItStandsAtItsFirstTurn) {
  HintBoard board(kRenew);
  board.Publish({{"victim", 10}});
  HintStream victim(&board, "victim");
  HintStream other(&board, "other");
  EXPECT_EQ(Sent(victim, kStart), 10);
  // Unboosted, but told so: it may hold a boost from a collector that died.
  EXPECT_EQ(Sent(other, kStart), 1);
}

TEST(HintBoard, NothingIsSentAgainUntilTheAgentsBoostChanges) {
  HintBoard board(kRenew);
  HintStream stream(&board, "a");
  ASSERT_EQ(Sent(stream, kStart), 1);
  EXPECT_EQ(Sent(stream, kStart + 1s), std::nullopt);
  // Another agent's boost moves the version, not this agent's.
  board.Publish({{"b", 4}});
  EXPECT_EQ(Sent(stream, kStart + 2s), std::nullopt);
  board.Publish({{"a", 3}, {"b", 4}});
  EXPECT_EQ(Sent(stream, kStart + 3s), 3);
  EXPECT_EQ(Sent(stream, kStart + 4s), std::nullopt);
}

TEST(HintBoard, ABoostThatEndsIsSentAsOne) {
  HintBoard board(kRenew);
  board.Publish({{"a", 3}});
  HintStream stream(&board, "a");
  ASSERT_EQ(Sent(stream, kStart), 3);
  board.Publish({});
  EXPECT_EQ(Sent(stream, kStart + 1s), 1);
  EXPECT_EQ(board.boosts_in_force(), 0u);
}

TEST(HintBoard, ABoostInForceIsRenewedEveryRenewInterval) {
  HintBoard board(kRenew);
  board.Publish({{"a", 3}});
  HintStream stream(&board, "a");
  ASSERT_EQ(Sent(stream, kStart), 3);
  EXPECT_EQ(Sent(stream, kStart + kRenew - 1s), std::nullopt);
  EXPECT_EQ(Sent(stream, kStart + kRenew), 3);
  EXPECT_EQ(Sent(stream, kStart + kRenew + 1s), std::nullopt);
}

TEST(HintBoard, NoBoostIsNotRenewed) {
  HintBoard board(kRenew);
  HintStream stream(&board, "a");
  ASSERT_EQ(Sent(stream, kStart), 1);
  EXPECT_EQ(Sent(stream, kStart + 10 * kRenew), std::nullopt);
}

TEST(HintBoard, FactorsOfOneOrLessAreNoBoost) {
  HintBoard board(kRenew);
  board.Publish({{"a", 1}, {"b", 0.5}, {"c", 2}});
  EXPECT_EQ(board.boosts_in_force(), 1u);
  EXPECT_EQ(board.BoostOf("a"), 1);
  EXPECT_EQ(board.BoostOf("b"), 1);
  EXPECT_EQ(board.BoostOf("c"), 2);
  EXPECT_EQ(board.BoostOf("unknown"), 1);
}

TEST(HintBoard, TheVersionMovesOnlyWhenABoostChanged) {
  HintBoard board(kRenew);
  board.Publish({{"a", 2}});
  const uint64_t version = board.version();
  board.Publish({{"a", 2}, {"b", 1}});
  EXPECT_EQ(board.version(), version);
  board.Publish({{"a", 2.5}});
  EXPECT_GT(board.version(), version);
}

TEST(HintBoard, WithoutABoardNothingIsEverPending) {
  HintStream stream(nullptr, "a");
  EXPECT_EQ(Sent(stream, kStart), std::nullopt);
}

}  // namespace
}  // namespace fscanary::adaptive
