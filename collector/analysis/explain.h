#pragma once
// Sentences and numbers a person can act on, for suspects and reports.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "collector/analysis/analysis.h"

namespace fscanary::analysis {

// "scheduler=none ∧ blk_mq=on"
std::string DescribeConjunction(const std::vector<AttributeValue>& attributes);
// Three significant digits; "∞" for infinity ("180", "0.42", "1.2e+03").
std::string FormatRatio(double value);
// Two significant digits ("3.1e-10", "0.043"); "<1e-300" below that.
std::string FormatProbability(double value);
// Bytes with three significant digits and a decimal unit ("1.2 TB").
std::string FormatBytes(double bytes);
// A share as a percentage with two significant digits ("6%", "0.37%").
std::string FormatShare(double share);

// "12 of 12 events on hosts with ..., which hold 6% of the exposure (41
// hosts); rate ratio 180 (95% CI 40–∞), p = ..., q = ...", followed by what
// the fleet cannot tell apart and what would separate it.
std::string ExplainSuspect(const Suspect& suspect, uint64_t total_events, double confidence,
                           double significance);

}  // namespace fscanary::analysis
