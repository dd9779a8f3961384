#include "collector/analysis/q_values.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fscanary::analysis {
namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

// ln C(n, k).
double LogChoose(double n, double k) {
  int sign = 0;  // lgamma_r: glibc's lgamma writes a global
  return ::lgamma_r(n + 1, &sign) - ::lgamma_r(k + 1, &sign) - ::lgamma_r(n - k + 1, &sign);
}

double LogAdd(double a, double b) {
  if (a == kMinusInfinity) return b;
  const double high = std::max(a, b);
  return high + std::log1p(std::exp(std::min(a, b) - high));
}

}  // namespace

QValues::QValues(std::span<const double> log_p, std::span<const uint8_t> order, size_t items,
                 int max_order) {
  std::vector<double> log_space(max_order + 1, kMinusInfinity);
  int orders = 0;
  double log_total = kMinusInfinity;
  for (int k = 1; k <= max_order; ++k) {
    if (static_cast<double>(items) < k) continue;
    log_space[k] = LogChoose(static_cast<double>(items), k);
    log_total = LogAdd(log_total, log_space[k]);
    ++orders;
  }
  log_hypotheses_ = log_total;
  // Weights w_k = m / (orders * |S_k|) average 1 over all m hypotheses. With
  // p' = p / w, BH over m hypotheses gives q_(i) = min over j >= i of
  // p'_(j) * m / j.
  log_weight_.assign(max_order + 1, 0);
  for (int k = 1; k <= max_order; ++k) {
    log_weight_[k] = std::log(std::max(orders, 1)) + log_space[k] - log_total;
  }
  sorted_.reserve(log_p.size());
  for (size_t i = 0; i < log_p.size(); ++i) sorted_.push_back(log_p[i] + log_weight_[order[i]]);
  std::sort(sorted_.begin(), sorted_.end());
  suffix_min_.resize(sorted_.size());
  double running = 0;  // ln 1
  for (size_t j = sorted_.size(); j-- > 0;) {
    running = std::min(running, sorted_[j] + log_total - std::log(static_cast<double>(j + 1)));
    suffix_min_[j] = running;
  }
}

double QValues::Of(double log_p, int order) const {
  const double weighted = log_p + log_weight_[order];
  const size_t rank = static_cast<size_t>(
      std::lower_bound(sorted_.begin(), sorted_.end(), weighted) - sorted_.begin());
  if (rank >= sorted_.size()) return 1;
  return std::min(1.0, std::exp(suffix_min_[rank]));
}

double QValues::hypotheses() const { return std::exp(log_hypotheses_); }

}  // namespace fscanary::analysis
