#pragma once
// q-values for the tested hypotheses by layered Benjamini–Hochberg: each
// conjunction order gets an equal share of the error budget, spread over every
// conjunction of that order the items allow, tested or not (Webb's layered
// critical values, used as weights in a weighted BH). Hypotheses the search
// pruned count as p = 1, which can only raise q. Internal to the analysis.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace fscanary::analysis {

class QValues {
 public:
  // `log_p[i]` is the ln p-value of a tested conjunction of `order[i]` items,
  // out of `items` items and conjunctions of up to `max_order` of them.
  QValues(std::span<const double> log_p, std::span<const uint8_t> order, size_t items,
          int max_order);

  // q of a tested hypothesis with this ln p and order.
  double Of(double log_p, int order) const;
  // Number of hypotheses the q-values account for: sum over orders of C(items, order).
  double hypotheses() const;

 private:
  double log_hypotheses_ = 0;
  std::vector<double> log_weight_;  // ln(orders * |S_order| / m), per order
  std::vector<double> sorted_;      // ln p', ascending
  std::vector<double> suffix_min_;  // ln q for each rank of sorted_
};

}  // namespace fscanary::analysis
