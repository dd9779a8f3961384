#include "collector/analysis/suspects.h"

#include <algorithm>
#include <cmath>

#include "collector/analysis/statistics.h"

namespace fscanary::analysis {
namespace {

constexpr size_t kMaxAlternatives = 16;  // listed with a suspect
// Within every kernel release a kernel-bound value is held by at least this
// share of the hosts, or at most one minus it (custom builds blur the line).
constexpr double kBoundPurity = 0.95;

std::vector<uint64_t> ConjunctionSlots(const Conjunction& conjunction, const ItemTable& table,
                                       const EventIndex& events) {
  std::vector<uint64_t> slots = table.items[conjunction.items[0]]->event_slots;
  for (int m = 1; m < conjunction.size; ++m) {
    AndSlots(slots.data(), table.items[conjunction.items[m]]->event_slots.data(), slots.data(),
             events.words());
  }
  return slots;
}

// Whether a set with `events` of `outer_events` events and `share` of the
// outer set's exposure stands out within it.
bool StandsOut(uint64_t events, uint64_t outer_events, double share, double log_alpha) {
  return LogBinomialUpperTail(outer_events, events, std::min(1.0, share)) <= log_alpha;
}

// Which items are kernel-bound; computed on demand.
class KernelBound {
 public:
  KernelBound(const Fleet& fleet, const ItemTable& table, const EpochWeights& weights)
      : table_(table), weights_(weights), bound_(table.items.size(), -1) {
    const std::optional<AttributeId> kernel = fleet.FindAttribute(table.kernel_attribute);
    if (!kernel.has_value() || fleet.attribute_values(*kernel).size() < 2) return;
    release_of_.assign(fleet.epoch_count(), kNone);
    for (const ValueId value : fleet.attribute_values(*kernel)) {
      const uint32_t release = static_cast<uint32_t>(release_size_.size());
      const EpochPosting& posting = fleet.posting(value);
      release_size_.push_back(posting.count());
      if (posting.is_bitset()) {
        for (size_t w = 0; w < posting.words().size(); ++w) {
          for (uint64_t bits = posting.words()[w]; bits != 0; bits &= bits - 1) {
            release_of_[w * 64 + std::countr_zero(bits)] = release;
          }
        }
      } else {
        for (const uint32_t e : posting.epochs()) release_of_[e] = release;
      }
    }
  }

  size_t Count(const Conjunction& conjunction) {
    size_t count = 0;
    for (int m = 0; m < conjunction.size; ++m) count += Bound(conjunction.items[m]);
    return count;
  }

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};

  bool Bound(uint32_t index) {
    if (bound_[index] >= 0) return bound_[index] == 1;
    const Item& item = *table_.items[index];
    bool bound = item.members.front().attribute.rfind("CONFIG_", 0) == 0;
    if (!bound && !item.kernel && !release_size_.empty()) {
      std::vector<uint64_t> held(release_size_.size(), 0);
      ForEachEpoch(item.bits, weights_.summary_words(), [&](uint32_t e) {
        if (release_of_[e] != kNone) ++held[release_of_[e]];
      });
      bound = true;
      for (size_t r = 0; r < held.size() && bound; ++r) {
        const double share = static_cast<double>(held[r]) / static_cast<double>(release_size_[r]);
        bound = share >= kBoundPurity || share <= 1 - kBoundPurity;
      }
    }
    bound_[index] = bound ? 1 : 0;
    return bound;
  }

  const ItemTable& table_;
  const EpochWeights& weights_;
  std::vector<uint32_t> release_of_;
  std::vector<uint64_t> release_size_;
  std::vector<int8_t> bound_;
};

// Orders a group so that its name comes first (see the header).
void NameGroup(std::vector<Conjunction>& group, const SelectionInput& input, KernelBound& bound,
               double log_alpha) {
  std::vector<size_t> bound_count(group.size());
  for (size_t i = 0; i < group.size(); ++i) bound_count[i] = bound.Count(group[i]);
  std::vector<size_t> order(group.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (bound_count[a] != bound_count[b]) return bound_count[a] < bound_count[b];
    if (group[a].size != group[b].size) return group[a].size > group[b].size;
    if (group[a].exposure != group[b].exposure) return group[a].exposure > group[b].exposure;
    return group[a].log_p < group[b].log_p;
  });
  std::vector<Conjunction> sorted;
  for (const size_t i : order) sorted.push_back(group[i]);
  const size_t fewest = bound_count[order.front()];
  size_t peers = 0;
  while (peers < order.size() && bound_count[order[peers]] == fewest) ++peers;

  std::vector<EpochBitset> bits(peers, EpochBitset(*input.weights));
  for (size_t i = 0; i < peers; ++i) {
    ConjunctionBits(sorted[i], *input.table, *input.weights, bits[i]);
  }
  size_t chosen = 0;
  for (size_t y = 0; y < peers; ++y) {
    bool too_broad = false;
    for (size_t x = 0; x < peers && !too_broad; ++x) {
      if (x == y || sorted[x].exposure >= sorted[y].exposure) continue;
      const SetSize common = IntersectSize(bits[x].view(), bits[y].view(), *input.weights);
      too_broad = StandsOut(sorted[y].events, sorted[y].events,
                            common.exposure / sorted[y].exposure, log_alpha);
    }
    if (!too_broad) {
      chosen = y;
      break;
    }
  }
  std::rotate(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(chosen),
              sorted.begin() + static_cast<std::ptrdiff_t>(chosen) + 1);
  group = std::move(sorted);
}

}  // namespace

void ConjunctionBits(const Conjunction& conjunction, const ItemTable& table,
                     const EpochWeights& weights, EpochBitset& out) {
  const auto& items = table.items;
  const BitsetView first = items[conjunction.items[0]]->bits;
  Intersect(first, conjunction.size > 1 ? items[conjunction.items[1]]->bits : first, out, weights);
  for (int m = 2; m < conjunction.size; ++m) {
    Intersect(out.view(), items[conjunction.items[m]]->bits, out, weights);
  }
}

std::vector<SelectedSuspect> SelectSuspects(const std::vector<Conjunction>& candidates,
                                            const SelectionInput& input) {
  const ItemTable& table = *input.table;
  const EpochWeights& weights = *input.weights;
  const EventIndex& events = *input.events;
  const double log_alpha = std::log(input.alpha);
  const double log_alpha_narrower =
      std::log(input.alpha / static_cast<double>(std::max<size_t>(1, table.items.size())));
  const uint64_t total_events = events.total();
  const double total_exposure = weights.total();
  std::vector<SelectedSuspect> selected;
  EpochBitset bits(weights);
  std::vector<uint64_t> common_slots(events.words());
  for (const Conjunction& candidate : candidates) {
    ConjunctionBits(candidate, table, weights, bits);
    const std::vector<uint64_t> slots = ConjunctionSlots(candidate, table, events);
    bool drop = false;
    std::vector<size_t> absorbed;
    for (size_t s = 0; s < selected.size() && !drop; ++s) {
      SelectedSuspect& suspect = selected[s];
      const Conjunction& better = suspect.conjunction;
      const SetSize common = IntersectSize(bits.view(), suspect.bits.view(), weights);
      if (common.epochs == 0) continue;
      const bool inside = common.epochs == candidate.epochs;
      const bool around = common.epochs == better.epochs;
      if (slots == suspect.slots &&
          !StandsOut(candidate.events, candidate.events, common.exposure / candidate.exposure,
                     log_alpha_narrower) &&
          !StandsOut(better.events, better.events, common.exposure / better.exposure,
                     log_alpha_narrower)) {
        suspect.indistinguishable.push_back(candidate);
        drop = true;
        continue;
      }
      if (inside) {
        drop = !StandsOut(candidate.events, better.events, candidate.exposure / better.exposure,
                          log_alpha_narrower);
        continue;
      }
      if (around && !StandsOut(better.events, candidate.events,
                               better.exposure / candidate.exposure, log_alpha)) {
        absorbed.push_back(s);
        continue;
      }
      AndSlots(slots.data(), suspect.slots.data(), common_slots.data(), events.words());
      const uint64_t remaining_events = candidate.events - events.Count(common_slots.data());
      const double remaining_exposure = candidate.exposure - common.exposure;
      const double rest = total_exposure - better.exposure;
      drop = remaining_exposure <= 0 || rest <= 0 ||
             !StandsOut(remaining_events, total_events - better.events, remaining_exposure / rest,
                        log_alpha_narrower);
    }
    if (drop) continue;
    SelectedSuspect entry{.conjunction = candidate, .bits = bits, .slots = slots};
    if (absorbed.empty()) {
      if (selected.size() < input.max_suspects) selected.push_back(std::move(entry));
      continue;
    }
    // Takes the place of the first suspect it absorbs; the others go.
    selected[absorbed.front()] = std::move(entry);
    for (size_t i = absorbed.size(); i-- > 1;) {
      selected.erase(selected.begin() + static_cast<std::ptrdiff_t>(absorbed[i]));
    }
  }
  KernelBound bound(*input.fleet, table, weights);
  for (SelectedSuspect& suspect : selected) {
    if (suspect.indistinguishable.empty()) continue;
    std::vector<Conjunction> group = std::move(suspect.indistinguishable);
    group.push_back(suspect.conjunction);
    NameGroup(group, input, bound, log_alpha);
    suspect.conjunction = group.front();
    ConjunctionBits(suspect.conjunction, table, weights, suspect.bits);
    suspect.slots = ConjunctionSlots(suspect.conjunction, table, events);
    suspect.indistinguishable.assign(group.begin() + 1,
                                     group.begin() + std::min(group.size(), kMaxAlternatives + 1));
  }
  return selected;
}

}  // namespace fscanary::analysis
