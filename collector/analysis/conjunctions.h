#pragma once
// Level-wise search for conjunctions of items (A ∧ B ∧ ...) whose corruption
// rate is significantly higher than that of each of their parts. Internal to
// the analysis; see docs/CORRELATION.md for the statistics.
//
// Pruning. Support, redundancy and the significance bound never drop anything
// that could be reported; the Apriori rule and the beam restrict the search
// (to interactions with an excess in every part; to the best variants of a
// strong cause):
//  - support: a conjunction with fewer than min_events events, min_epochs
//    epochs or min_support of the exposure is not tested, nor is anything
//    built on it (these only shrink as items are added);
//  - redundancy: a conjunction holding exactly the epochs of one of its parts
//    is the same hypothesis and is skipped; so is one holding exactly the
//    epochs of another conjunction of its order (sets are compared by a
//    64-bit hash of their words and their size), unless its name has fewer
//    config options; only one conjunction per set leads joins;
//  - Apriori on productivity: a conjunction is built only from parts that were
//    themselves significantly higher than their own parts (extend_alpha);
//  - best achievable significance: with e events, no conjunction built on this
//    one can do better than all e events in min_support of the exposure; once
//    `keep` candidates (and, while no config option is in the branch,
//    `keep_plain` ones without any) are better than that bound, it is cut;
//  - beam: when a fleet has a strong cause, thousands of variants of it are
//    all significant; only the best of each order are built upon (`beam`),
//    which bounds the work at the price of completeness in such fleets.
// Event counts come from short bitsets over the event slots, so most
// candidates are rejected before their epochs are intersected.

#include <array>
#include <cstdint>
#include <vector>

#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/event_index.h"
#include "collector/analysis/items.h"

namespace fscanary::analysis {

inline constexpr int kMaxOrder = 4;

struct Conjunction {
  std::array<uint32_t, kMaxOrder> items{};  // indices into the item table, ascending
  int size = 0;
  uint64_t events = 0;
  uint64_t epochs = 0;
  double exposure = 0;
  double log_p = 0;        // against the rest of the fleet
  double log_parts_p = 0;  // the largest p against any of its parts
  int config_items = 0;    // items named by a kernel CONFIG_ option
};

struct MiningOptions {
  int max_order = kMaxOrder;
  uint64_t min_events = 2;
  uint64_t min_event_hosts = 2;
  uint64_t min_epochs = 3;
  double min_support = 0.001;
  double productive_alpha = 0.01;
  double extend_alpha = 0.05;
  // Best candidates kept; the pruning bound follows the worst of them. Kernel
  // config options come by the thousand, each a slight variant of a kernel
  // set, so the best candidates without any are kept apart as well.
  size_t keep = 1024;
  size_t keep_plain = 256;
  // Beam: of the conjunctions kept at one order, only the best `beam` by p
  // (and the best `beam_plain` without config options) lead joins at the
  // next; the others still serve as parts and as the second half of a join.
  size_t beam = 4096;
  size_t beam_plain = 1024;
};

struct MiningResult {
  std::vector<Conjunction> candidates;  // productive, best log_p first
  // ln p of every hypothesis tested, with its order, for the q-values.
  std::vector<double> tested_log_p;
  std::vector<uint8_t> tested_order;
  std::array<uint64_t, kMaxOrder + 1> tested_per_order{};
  std::array<uint64_t, kMaxOrder + 1> intersected_per_order{};  // exact intersections
  std::array<uint64_t, kMaxOrder + 1> redundant_per_order{};    // equal to a part
  std::array<uint64_t, kMaxOrder + 1> duplicate_per_order{};    // a set seen under another name
  std::array<uint64_t, kMaxOrder + 1> kept_per_order{};         // built upon
  uint64_t pruned_by_bound = 0;
  uint64_t left_by_beam = 0;  // kept conjunctions the beam did not build upon
};

MiningResult MineConjunctions(const ItemTable& table, const EpochWeights& weights,
                              const EventIndex& events, const MiningOptions& options);

}  // namespace fscanary::analysis
