#include "collector/analysis/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace fscanary::analysis {
namespace {

constexpr double kTiny = 1e-300;
constexpr double kEpsilon = 1e-15;
constexpr int kMaxIterations = 1'000'000;
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// glibc's lgamma writes the global signgam; lgamma_r keeps this file thread-safe.
double LogGamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// Continued fraction for the incomplete beta function (modified Lentz), which
// converges quickly for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  const double qab = a + b;
  const double qap = a + 1;
  const double qam = a - 1;
  double c = 1;
  double d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int i = 1; i <= kMaxIterations; ++i) {
    const double m = i;
    const double m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < kEpsilon) break;
  }
  return h;
}

// ln of x^a (1-x)^b / B(a, b).
double LogBetaFront(double a, double b, double x) {
  return LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * std::log(x) + b * std::log1p(-x);
}

// A quantile together with its complement, each computed directly, so that
// x / (1 - x) stays accurate when x is within 1e-10 of 1.
struct Quantile {
  double x = 0;
  double one_minus_x = 1;
};

// Solves I_x(a, b) == probability for x <= 1/2 by bisection on ln x.
double LowerHalfQuantile(double probability, double a, double b) {
  double low = -745;  // e^-745 is the smallest positive double.
  double high = std::log(0.5);
  if (RegularizedIncompleteBeta(a, b, std::exp(low)) >= probability) return 0;
  for (int i = 0; i < 200 && high - low > 1e-14; ++i) {
    const double middle = 0.5 * (low + high);
    if (RegularizedIncompleteBeta(a, b, std::exp(middle)) < probability) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return std::exp(0.5 * (low + high));
}

// `upper_probability` is 1 - probability, passed separately to keep its digits.
Quantile BetaQuantilePair(double probability, double upper_probability, double a, double b) {
  if (probability <= 0) return {0, 1};
  if (upper_probability <= 0) return {1, 0};
  if (RegularizedIncompleteBeta(a, b, 0.5) >= probability) {
    const double x = LowerHalfQuantile(probability, a, b);
    return {x, 1 - x};
  }
  // I_x(a, b) = p  <=>  I_{1-x}(b, a) = 1 - p.
  const double y = LowerHalfQuantile(upper_probability, b, a);
  return {1 - y, y};
}

// P(a, x) and Q(a, x) = 1 - P(a, x), each computed where it is accurate.
struct GammaTails {
  double lower = 0;
  double upper = 1;
};

GammaTails IncompleteGamma(double a, double x) {
  if (x <= 0) return {0, 1};
  const double log_front = -x + a * std::log(x) - LogGamma(a);
  if (x < a + 1) {
    double term = 1 / a;
    double sum = term;
    double ap = a;
    for (int i = 0; i < kMaxIterations; ++i) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * kEpsilon) break;
    }
    const double lower = sum * std::exp(log_front);
    return {lower, 1 - lower};
  }
  double b = x + 1 - a;
  double c = 1 / kTiny;
  double d = 1 / b;
  double h = d;
  for (int i = 1; i <= kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double step = d * c;
    h *= step;
    if (std::fabs(step - 1) < kEpsilon) break;
  }
  const double upper = std::exp(log_front) * h;
  return {1 - upper, upper};
}

}  // namespace

double LogRegularizedIncompleteBeta(double a, double b, double x) {
  if (x <= 0) return -kInfinity;
  if (x >= 1) return 0;
  const double log_front = LogBetaFront(a, b, x);
  if (x < (a + 1) / (a + b + 2)) {
    return log_front + std::log(BetaContinuedFraction(a, b, x)) - std::log(a);
  }
  const double complement = std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
  return std::log1p(-std::min(complement, 1.0));
}

double RegularizedIncompleteBeta(double a, double b, double x) {
  return std::exp(LogRegularizedIncompleteBeta(a, b, x));
}

double BetaQuantile(double probability, double a, double b) {
  return BetaQuantilePair(probability, 1 - probability, a, b).x;
}

double RegularizedLowerGamma(double a, double x) { return IncompleteGamma(a, x).lower; }

double LogBinomialUpperTail(uint64_t n, uint64_t k, double p) {
  if (k == 0) return 0;
  if (k > n || p <= 0) return -kInfinity;
  if (p >= 1) return 0;
  // P(X >= k) = I_p(k, n - k + 1).
  return LogRegularizedIncompleteBeta(static_cast<double>(k), static_cast<double>(n - k + 1), p);
}

double BinomialUpperTail(uint64_t n, uint64_t k, double p) {
  return std::exp(LogBinomialUpperTail(n, k, p));
}

double BinomialLowerTail(uint64_t n, uint64_t k, double p) {
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  // P(X <= k) = I_{1-p}(n - k, k + 1).
  return RegularizedIncompleteBeta(static_cast<double>(n - k), static_cast<double>(k + 1), 1 - p);
}

namespace {

// Clopper–Pearson bounds with their complements (see Quantile).
struct ProportionBounds {
  Quantile low;
  Quantile high;
};

ProportionBounds ClopperPearsonPair(uint64_t k, uint64_t n, double confidence) {
  const double tail = (1 - confidence) / 2;
  ProportionBounds bounds{.low = {0, 1}, .high = {1, 0}};
  if (k > 0) {
    bounds.low =
        BetaQuantilePair(tail, 1 - tail, static_cast<double>(k), static_cast<double>(n - k + 1));
  }
  if (k < n) {
    bounds.high =
        BetaQuantilePair(1 - tail, tail, static_cast<double>(k + 1), static_cast<double>(n - k));
  }
  return bounds;
}

}  // namespace

Interval ClopperPearson(uint64_t k, uint64_t n, double confidence) {
  const ProportionBounds bounds = ClopperPearsonPair(k, n, confidence);
  return {bounds.low.x, bounds.high.x};
}

double PoissonMeanLowerBound(uint64_t events, double confidence) {
  if (events == 0) return 0;
  const double alpha = 1 - confidence;
  const double a = static_cast<double>(events);
  // P(Poisson(mu) >= events) = P(events, mu) grows with mu; find where it is alpha.
  double low = 0;
  double high = a;
  for (int i = 0; i < 200 && high - low > 1e-13 * high; ++i) {
    const double middle = 0.5 * (low + high);
    if (IncompleteGamma(a, middle).lower < alpha) {
      low = middle;
    } else {
      high = middle;
    }
  }
  return 0.5 * (low + high);
}

double PoissonLowerTail(uint64_t k, double mean) {
  if (mean <= 0) return 1;
  return IncompleteGamma(static_cast<double>(k + 1), mean).upper;
}

RateComparison CompareRates(uint64_t events_in, double exposure_in, uint64_t events_out,
                            double exposure_out, double confidence) {
  RateComparison result;
  const uint64_t total = events_in + events_out;
  if (total == 0 || exposure_in <= 0 || exposure_out <= 0) {
    result.ci_high = kInfinity;
    return result;
  }
  const double exposure_ratio = exposure_out / exposure_in;
  result.rate_ratio =
      events_out == 0
          ? kInfinity
          : (static_cast<double>(events_in) / static_cast<double>(events_out)) * exposure_ratio;
  const double share = exposure_in / (exposure_in + exposure_out);
  result.log_p_value = LogBinomialUpperTail(total, events_in, share);
  result.p_value = std::exp(result.log_p_value);
  const ProportionBounds bounds = ClopperPearsonPair(events_in, total, confidence);
  result.ci_low = bounds.low.x / bounds.low.one_minus_x * exposure_ratio;
  result.ci_high = bounds.high.one_minus_x <= 0
                       ? kInfinity
                       : bounds.high.x / bounds.high.one_minus_x * exposure_ratio;
  return result;
}

std::vector<double> BenjaminiHochberg(std::span<const double> p_values, double hypotheses) {
  const size_t n = p_values.size();
  const double m = std::max(hypotheses, static_cast<double>(n));
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return p_values[x] < p_values[y]; });
  std::vector<double> q(n, 1.0);
  double running_min = 1.0;
  for (size_t rank = n; rank-- > 0;) {
    const size_t index = order[rank];
    running_min = std::min(running_min, p_values[index] * m / static_cast<double>(rank + 1));
    q[index] = running_min;
  }
  return q;
}

}  // namespace fscanary::analysis
