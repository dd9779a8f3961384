#pragma once
// From the miner's ranked candidates to the suspects a person reads:
// overlapping candidates reconciled, and conjunctions the fleet cannot tell
// apart grouped under one name. Internal to the analysis.

#include <vector>

#include "collector/analysis/conjunctions.h"
#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/event_index.h"
#include "collector/analysis/fleet.h"
#include "collector/analysis/items.h"

namespace fscanary::analysis {

struct SelectedSuspect {
  Conjunction conjunction;
  EpochBitset bits;
  std::vector<uint64_t> slots;
  // Conjunctions holding exactly the same events that the fleet cannot tell
  // apart from this one (best named first).
  std::vector<Conjunction> indistinguishable;
};

struct SelectionInput {
  const Fleet* fleet = nullptr;
  const ItemTable* table = nullptr;
  const EpochWeights* weights = nullptr;
  const EventIndex* events = nullptr;
  double alpha = 0.01;  // "significantly higher"
  size_t max_suspects = 10;
};

// Candidates in rank order (best p first) are reconciled with the better-
// ranked suspects they overlap:
//  - holding exactly a suspect's events, where their intersection (which then
//    holds all of those events) stands out within neither: joins the
//    suspect's group of indistinguishable conjunctions;
//  - inside a suspect without standing out there: dropped;
//  - around a suspect that does not stand out within it (so it holds more
//    events): takes the suspect's place;
//  - otherwise overlapping: dropped if what remains of it outside the
//    suspect is no longer significantly high.
// A narrower set, or what remains of a candidate outside a suspect, "stands
// out" at alpha divided by the number of items: it was found among that many
// ways of cutting a set down.
//
// A group is named by the member with the fewest kernel-bound items (values
// that, within every kernel release, are held by nearly all or nearly none
// of its hosts: config options, the distro), since those carry no
// information beyond which kernels they mark; then by the most conditions,
// then the broadest, skipping members that another such member shows to be
// too broad (its intersection with them stands out within them).
std::vector<SelectedSuspect> SelectSuspects(const std::vector<Conjunction>& candidates,
                                            const SelectionInput& input);

// The epochs of a conjunction, into `out`.
void ConjunctionBits(const Conjunction& conjunction, const ItemTable& table,
                     const EpochWeights& weights, EpochBitset& out);

}  // namespace fscanary::analysis
