#pragma once
// Exact tests for comparing two Poisson rates, and multiple-testing control.
// Pure functions of their arguments; thread-safe. Every tail probability is
// available as a natural logarithm so that ranks stay meaningful far below
// the smallest double (1e-308), which a few hundred events easily reach.

#include <cstdint>
#include <span>
#include <vector>

namespace fscanary::analysis {

// Regularized incomplete beta function I_x(a, b) and its logarithm.
// a > 0, b > 0, 0 <= x <= 1.
double RegularizedIncompleteBeta(double a, double b, double x);
double LogRegularizedIncompleteBeta(double a, double b, double x);

// x such that I_x(a, b) == probability (0 <= probability <= 1).
double BetaQuantile(double probability, double a, double b);

// Regularized lower incomplete gamma P(a, x) = P(Poisson(x) >= a) for integer a.
double RegularizedLowerGamma(double a, double x);

// ln P(X >= k) for X ~ Binomial(n, p). 0 (probability 1) when k == 0.
double LogBinomialUpperTail(uint64_t n, uint64_t k, double p);
double BinomialUpperTail(uint64_t n, uint64_t k, double p);

// P(X <= k) for X ~ Binomial(n, p).
double BinomialLowerTail(uint64_t n, uint64_t k, double p);

struct Interval {
  double low = 0;
  double high = 0;
};

// Exact (Clopper–Pearson) interval for a binomial proportion from k of n.
Interval ClopperPearson(uint64_t k, uint64_t n, double confidence = 0.95);

// Smallest Poisson mean that makes `events` or more reasonably likely: the
// one-sided lower confidence bound for the mean of a Poisson count.
double PoissonMeanLowerBound(uint64_t events, double confidence = 0.95);

// P(X <= k) for X ~ Poisson(mean).
double PoissonLowerTail(uint64_t k, double mean);

// Compares the event rate in a group against the rate in the rest, given
// events and exposure on both sides. Conditional on the total number of
// events, the group's count is Binomial(total, share of exposure) when the
// rates are equal; the p-value is the one-sided upper tail (is the group's
// rate higher?), the interval is Clopper–Pearson on the proportion mapped to
// a rate ratio. ci_high is +infinity when the rest has no events.
struct RateComparison {
  double rate_ratio = 1;
  double ci_low = 0;
  double ci_high = 0;
  double p_value = 1;
  double log_p_value = 0;
};
RateComparison CompareRates(uint64_t events_in, double exposure_in, uint64_t events_out,
                            double exposure_out, double confidence = 0.95);

// Benjamini–Hochberg q-values (adjusted p-values), returned in input order.
// `hypotheses` >= p_values.size() counts hypotheses that were not computed;
// they are taken as p = 1, which can only make the q-values larger.
std::vector<double> BenjaminiHochberg(std::span<const double> p_values, double hypotheses);

}  // namespace fscanary::analysis
