#include "checkers/kmsg/event_limiter.h"

#include "gtest/gtest.h"

namespace fscanary::kmsg {
namespace {

constexpr uint64_t kSecond = 1'000'000;

EventLimiter ThreePerMinute() {
  return EventLimiter({.events_per_window = 3, .window_usec = 60 * kSecond});
}

TEST(EventLimiter, ReportsUpToTheLimitThenWithholds) {
  EventLimiter limiter = ThreePerMinute();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Admit("block_io_error", "vda", i).report);
  EXPECT_FALSE(limiter.Admit("block_io_error", "vda", 4).report);
  EXPECT_FALSE(limiter.Admit("block_io_error", "vda", 5).report);
  EXPECT_EQ(limiter.total_suppressed(), 2u);
}

TEST(EventLimiter, NextWindowReportsAgainCarryingTheWithheldCount) {
  EventLimiter limiter = ThreePerMinute();
  for (int i = 0; i < 10; ++i) limiter.Admit("block_io_error", "vda", i * kSecond);
  const EventLimiter::Decision next = limiter.Admit("block_io_error", "vda", 61 * kSecond);
  EXPECT_TRUE(next.report);
  EXPECT_EQ(next.suppressed_before, 7u);
  // Carried once only.
  EXPECT_EQ(limiter.Admit("block_io_error", "vda", 62 * kSecond).suppressed_before, 0u);
  EXPECT_EQ(limiter.total_suppressed(), 7u);
}

TEST(EventLimiter, KeysAreSignatureAndDevice) {
  EventLimiter limiter = ThreePerMinute();
  for (int i = 0; i < 5; ++i) limiter.Admit("block_io_error", "vda", i);
  EXPECT_TRUE(limiter.Admit("block_io_error", "vdb", 5).report);
  EXPECT_TRUE(limiter.Admit("buffer_io_error", "vda", 5).report);
  const auto suppressed = limiter.Suppressed();
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0].signature, "block_io_error");
  EXPECT_EQ(suppressed[0].device, "vda");
  EXPECT_EQ(suppressed[0].pending, 2u);
  EXPECT_EQ(suppressed[0].total, 2u);
}

TEST(EventLimiter, ClockSteppingBackStaysInTheWindow) {
  EventLimiter limiter = ThreePerMinute();
  for (int i = 0; i < 3; ++i) limiter.Admit("xfs_shutdown", "sdb", 100 * kSecond);
  EXPECT_FALSE(limiter.Admit("xfs_shutdown", "sdb", 100 * kSecond - 5).report);
}

TEST(EventLimiter, ZeroLimitReportsEverything) {
  EventLimiter limiter({.events_per_window = 0});
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Admit("block_io_error", "vda", 0).report);
  EXPECT_EQ(limiter.total_suppressed(), 0u);
}

TEST(EventLimiter, KeysPastTheCapShareOnePerSignature) {
  EventLimiter limiter({.events_per_window = 1, .window_usec = 60 * kSecond, .max_keys = 2});
  EXPECT_TRUE(limiter.Admit("block_io_error", "a", 0).report);
  EXPECT_TRUE(limiter.Admit("block_io_error", "b", 0).report);
  EXPECT_TRUE(limiter.Admit("block_io_error", "c", 0).report);   // first on "*"
  EXPECT_FALSE(limiter.Admit("block_io_error", "d", 0).report);  // also "*"
  const auto suppressed = limiter.Suppressed();
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0].device, "*");
}

}  // namespace
}  // namespace fscanary::kmsg
