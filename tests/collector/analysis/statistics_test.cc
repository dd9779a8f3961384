#include "collector/analysis/statistics.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace fscanary::analysis {
namespace {

// Reference values: exact binomial sums and bisection at 50 digits (mpmath);
// the first ones are also what R's binom.test prints.
TEST(ClopperPearson, MatchesExactIntervals) {
  struct Case {
    uint64_t k, n;
    double low, high;
  };
  const Case cases[] = {{0, 10, 0.0, 0.308497107819},
                        {1, 10, 0.00252857854446, 0.445016117028},
                        {5, 10, 0.187086028447, 0.812913971553},
                        {10, 10, 0.691502892181, 1.0},
                        {7, 20, 0.153909204785, 0.592188534533},
                        {3, 1000, 0.00061909993165, 0.00874202323848}};
  for (const Case& c : cases) {
    const Interval interval = ClopperPearson(c.k, c.n);
    EXPECT_NEAR(interval.low, c.low, 1e-10 * std::max(1.0, c.low)) << c.k << "/" << c.n;
    EXPECT_NEAR(interval.high, c.high, 1e-10) << c.k << "/" << c.n;
  }
}

TEST(ClopperPearson, NoSuccessesHasTheClosedFormUpperBound) {
  // P(X = 0) = (1 - p)^n = 0.025 at the upper bound.
  const Interval interval = ClopperPearson(0, 37);
  EXPECT_EQ(interval.low, 0.0);
  EXPECT_NEAR(interval.high, 1 - std::pow(0.025, 1.0 / 37), 1e-12);
}

TEST(BinomialUpperTail, MatchesExactSums) {
  EXPECT_NEAR(BinomialUpperTail(12, 10, 0.5), 79.0 / 4096, 1e-15);
  EXPECT_NEAR(BinomialUpperTail(1000, 30, 0.01), 2.05998885097196e-7, 1e-18);
  EXPECT_EQ(BinomialUpperTail(5, 0, 0.3), 1.0);
  EXPECT_EQ(BinomialUpperTail(5, 6, 0.3), 0.0);
}

TEST(BinomialUpperTail, LogarithmStaysExactFarBelowTheSmallestDouble) {
  // 200 of 200 at p = 0.01 is 1e-400: only its logarithm is representable.
  EXPECT_NEAR(LogBinomialUpperTail(200, 200, 0.01), -921.034037197618, 1e-9);
  EXPECT_EQ(BinomialUpperTail(200, 200, 0.01), 0.0);
}

TEST(RegularizedIncompleteBeta, MatchesReferenceValue) {
  EXPECT_NEAR(RegularizedIncompleteBeta(2.5, 4, 0.3), 0.352197585906767, 1e-13);
  EXPECT_NEAR(BetaQuantile(0.352197585906767, 2.5, 4), 0.3, 1e-12);
}

TEST(CompareRates, EqualExposureIsTheClassicBinomialTest) {
  // 10 events in one unit of exposure against 2 in another: poisson.test in R.
  const RateComparison rates = CompareRates(10, 1.0, 2, 1.0);
  EXPECT_DOUBLE_EQ(rates.rate_ratio, 5.0);
  EXPECT_NEAR(rates.p_value, 0.019287109375, 1e-14);
  EXPECT_NEAR(rates.ci_low, 1.0655278435, 1e-8);
  EXPECT_NEAR(rates.ci_high, 46.9328354524, 1e-7);
}

TEST(CompareRates, IntervalScalesWithTheExposureRatio) {
  // 5 events in exposure 2 against 3 in exposure 30: share 2/32.
  const RateComparison rates = CompareRates(5, 2.0, 3, 30.0);
  EXPECT_DOUBLE_EQ(rates.rate_ratio, 25.0);
  EXPECT_NEAR(rates.p_value, 4.54999972135e-5, 1e-14);
  EXPECT_NEAR(rates.ci_low, 4.86395090943, 1e-8);
  EXPECT_NEAR(rates.ci_high, 160.987318493, 1e-6);
}

TEST(CompareRates, AllEventsInsideGivesAnOpenInterval) {
  const RateComparison rates = CompareRates(12, 6.0, 0, 94.0);
  EXPECT_TRUE(std::isinf(rates.rate_ratio));
  EXPECT_TRUE(std::isinf(rates.ci_high));
  // Lower bound from 12 of 12: p_L = 0.025^(1/12).
  const double p_low = std::pow(0.025, 1.0 / 12);
  EXPECT_NEAR(rates.ci_low, p_low / (1 - p_low) * 94.0 / 6.0, 1e-8);
  EXPECT_NEAR(rates.p_value, std::pow(0.06, 12), 1e-25);
}

TEST(CompareRates, NoEventsIsNoEvidence) {
  const RateComparison rates = CompareRates(0, 1.0, 0, 3.0);
  EXPECT_EQ(rates.p_value, 1.0);
  EXPECT_EQ(rates.rate_ratio, 1.0);
}

TEST(PoissonMeanLowerBound, MatchesChiSquareValues) {
  EXPECT_NEAR(PoissonMeanLowerBound(5, 0.95), 1.97014956806, 1e-9);
  EXPECT_NEAR(PoissonMeanLowerBound(1, 0.95), -std::log(0.95), 1e-10);
  EXPECT_EQ(PoissonMeanLowerBound(0, 0.95), 0.0);
}

TEST(PoissonLowerTail, MatchesExactSum) {
  EXPECT_NEAR(PoissonLowerTail(2, 6.0), 0.061968804416659, 1e-14);
  EXPECT_NEAR(PoissonLowerTail(0, 3.0), std::exp(-3.0), 1e-15);
}

// Benjamini & Hochberg (1995), section 4: fifteen p-values from a study of
// myocardial infarction treatment. At q = 0.05 the first four are rejected.
TEST(BenjaminiHochberg, TextbookExampleGivesKnownQValues) {
  const std::vector<double> p = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
                                 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000};
  const std::vector<double> expected = {0.0015,   0.003,    0.0095,   0.035625, 0.0603,
                                        0.063857, 0.063857, 0.0645,   0.0765,   0.486,
                                        0.581182, 0.714875, 0.753231, 0.813214, 1.0};
  const std::vector<double> q = BenjaminiHochberg(p, p.size());
  ASSERT_EQ(q.size(), expected.size());
  for (size_t i = 0; i < q.size(); ++i) EXPECT_NEAR(q[i], expected[i], 1e-6) << i;
  size_t rejected = 0;
  for (const double value : q) rejected += value < 0.05;
  EXPECT_EQ(rejected, 4u);
}

TEST(BenjaminiHochberg, InputOrderIsKeptAndUntestedHypothesesOnlyRaiseQ) {
  const std::vector<double> p = {0.04, 0.001, 0.5};
  const std::vector<double> q = BenjaminiHochberg(p, 3);
  EXPECT_NEAR(q[1], 0.003, 1e-15);
  EXPECT_NEAR(q[0], 0.06, 1e-15);
  EXPECT_NEAR(q[2], 0.5, 1e-15);
  const std::vector<double> more = BenjaminiHochberg(p, 30);
  EXPECT_NEAR(more[1], 0.03, 1e-15);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_GE(more[i], q[i]);
}

}  // namespace
}  // namespace fscanary::analysis
