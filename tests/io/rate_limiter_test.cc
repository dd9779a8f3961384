#include "io/rate_limiter.h"

#include "gtest/gtest.h"

namespace fscanary::io {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

TEST(RateLimiter, UnlimitedNeverWaits) {
  RateLimiter limiter({});
  EXPECT_TRUE(limiter.unlimited());
  EXPECT_EQ(limiter.Reserve(1 << 30, 1000, 0), 0u);
}

TEST(RateLimiter, BurstGoesAtOnceThenBytesArePaced) {
  // 1 MB/s with a 0.1 s burst: 100 KB of debt may build up before anyone
  // waits (11 I/Os of 10 KB start at once), then 10 ms per 10 KB.
  RateLimiter limiter({.bytes_per_second = 1e6, .burst_seconds = 0.1});
  uint64_t waited = 0;
  for (int i = 0; i < 11; ++i) waited += limiter.Reserve(10'000, 1, 0);
  EXPECT_EQ(waited, 0u);
  EXPECT_NEAR(static_cast<double>(limiter.Reserve(10'000, 1, 0)), 0.01 * kSecond, 1e3);
}

TEST(RateLimiter, LongRunRateMatchesTheBudget) {
  RateLimiter limiter({.ios_per_second = 100, .burst_seconds = 0});
  uint64_t now = 0;
  for (int i = 0; i < 1000; ++i) now += limiter.Reserve(4096, 1, now);
  // 1000 I/Os at 100/s: the last one may start at 9.99 s.
  EXPECT_NEAR(static_cast<double>(now) / kSecond, 9.99, 0.011);
}

TEST(RateLimiter, TheTighterOfTheTwoBudgetsWins) {
  RateLimiter limiter({.bytes_per_second = 1e9, .ios_per_second = 10, .burst_seconds = 0});
  EXPECT_EQ(limiter.Reserve(4096, 1, 0), 0u);
  EXPECT_NEAR(static_cast<double>(limiter.Reserve(4096, 1, 0)), 0.1 * kSecond, 1e3);
}

TEST(RateLimiter, IdleTimeDoesNotAccumulateBeyondTheBurst) {
  RateLimiter limiter({.ios_per_second = 10, .burst_seconds = 0.1});
  EXPECT_EQ(limiter.Reserve(0, 1, 0), 0u);
  // An hour idle, then 5 I/Os at once: only one burst's worth (1) is free.
  const uint64_t later = 3600 * kSecond;
  uint64_t waited = 0;
  for (int i = 0; i < 5; ++i) waited += limiter.Reserve(0, 1, later);
  EXPECT_GT(waited, 0u);
}

}  // namespace
}  // namespace fscanary::io
