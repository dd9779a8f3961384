#include "collector/analysis/conjunctions.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "collector/analysis/statistics.h"

namespace fscanary::analysis {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr uint32_t kNoItem = std::numeric_limits<uint32_t>::max();
using Key = std::array<uint32_t, kMaxOrder>;

// A conjunction kept for building the next level.
struct Node {
  Key items{};
  uint64_t events = 0;
  uint64_t epochs = 0;
  double exposure = 0;
  double log_p = 0;
  int config_items = 0;
  // One node per distinct set leads joins; others with the same epochs only
  // take part as the second half of a join and as parts.
  bool leads = true;
};

// Identifies a set of epochs within a level.
struct SetKey {
  uint64_t hash = 0;
  uint64_t epochs = 0;
  bool operator==(const SetKey&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const SetKey& key) {
    return H::combine(std::move(h), key.hash, key.epochs);
  }
};

bool WorseCandidate(const Conjunction& a, const Conjunction& b) { return a.log_p < b.log_p; }

bool IsConfig(const Item& item) { return item.members.front().attribute.rfind("CONFIG_", 0) == 0; }

// The best `capacity` candidates, as a max-heap on log_p.
class BestCandidates {
 public:
  explicit BestCandidates(size_t capacity) : capacity_(capacity) {}

  void Offer(const Conjunction& candidate) {
    if (capacity_ == 0) return;
    if (heap_.size() < capacity_) {
      heap_.push_back(candidate);
      std::push_heap(heap_.begin(), heap_.end(), WorseCandidate);
    } else if (candidate.log_p < heap_.front().log_p) {
      std::pop_heap(heap_.begin(), heap_.end(), WorseCandidate);
      heap_.back() = candidate;
      std::push_heap(heap_.begin(), heap_.end(), WorseCandidate);
    }
  }
  // ln p a candidate must beat to be kept.
  double Threshold() const { return heap_.size() < capacity_ ? kInfinity : heap_.front().log_p; }
  std::vector<Conjunction>& candidates() { return heap_; }

 private:
  size_t capacity_;
  std::vector<Conjunction> heap_;
};

class Miner {
 public:
  Miner(const ItemTable& table, const EpochWeights& weights, const EventIndex& events,
        const MiningOptions& options)
      : table_(table),
        weights_(weights),
        events_(events),
        options_(options),
        total_events_(events.total()),
        total_exposure_(weights.total()),
        min_exposure_(options.min_support * weights.total()),
        log_productive_(std::log(options.productive_alpha)),
        log_extend_(std::log(options.extend_alpha)) {}

  MiningResult Run() {
    std::vector<Node> level = Singles();
    for (int order = 2; order <= options_.max_order && level.size() >= 2; ++order) {
      level = NextLevel(level, order);
    }
    std::vector<Conjunction>& all = kept_.candidates();
    for (const Conjunction& c : kept_plain_.candidates()) {
      all.push_back(c);  // duplicates are removed below
    }
    std::sort(all.begin(), all.end(), [](const Conjunction& a, const Conjunction& b) {
      if (a.log_p != b.log_p) return a.log_p < b.log_p;
      if (a.size != b.size) return a.size < b.size;
      if (a.events != b.events) return a.events > b.events;
      return a.items < b.items;
    });
    all.erase(std::unique(all.begin(), all.end(),
                          [](const Conjunction& a, const Conjunction& b) {
                            return a.size == b.size && a.items == b.items;
                          }),
              all.end());
    result_.candidates = std::move(all);
    return std::move(result_);
  }

 private:
  const Item& item(uint32_t index) const { return *table_.items[index]; }

  double LogP(uint64_t events, double exposure) const {
    return LogBinomialUpperTail(total_events_, events, exposure / total_exposure_);
  }

  void RecordTested(double log_p, int order) {
    result_.tested_log_p.push_back(log_p);
    result_.tested_order.push_back(static_cast<uint8_t>(order));
    ++result_.tested_per_order[order];
  }

  void Offer(const Conjunction& candidate) {
    kept_.Offer(candidate);
    if (candidate.config_items == 0) kept_plain_.Offer(candidate);
  }

  // ln p that a candidate must beat to be kept, for a branch with or without
  // a config option already in it.
  double Threshold(bool has_config) const {
    return has_config ? kept_.Threshold() : std::max(kept_.Threshold(), kept_plain_.Threshold());
  }

  // Best ln p reachable by anything with at most `events` events: all of them
  // in the smallest exposure a candidate may have.
  double Bound(uint64_t events) {
    if (options_.min_support <= 0) return -kInfinity;
    if (bounds_.size() <= events) bounds_.resize(events + 1, std::nan(""));
    if (std::isnan(bounds_[events])) {
      bounds_[events] = LogBinomialUpperTail(total_events_, events, options_.min_support);
    }
    return bounds_[events];
  }

  std::vector<Node> Singles() {
    std::vector<Node> level;
    for (uint32_t i = 0; i < table_.items.size(); ++i) {
      const Item& single = item(i);
      const double log_p = LogP(single.events, single.exposure);
      RecordTested(log_p, 1);
      if (single.events < options_.min_events) continue;
      if (log_p <= log_productive_ &&
          events_.HasHosts(single.event_slots.data(), options_.min_event_hosts)) {
        Conjunction candidate{.size = 1,
                              .events = single.events,
                              .epochs = single.epochs,
                              .exposure = single.exposure,
                              .log_p = log_p,
                              .log_parts_p = log_p,
                              .config_items = IsConfig(single) ? 1 : 0};
        candidate.items.fill(kNoItem);
        candidate.items[0] = i;
        Offer(candidate);
      }
      if (log_p <= log_extend_) {
        Node node{.events = single.events,
                  .epochs = single.epochs,
                  .exposure = single.exposure,
                  .log_p = log_p,
                  .config_items = IsConfig(single) ? 1 : 0};
        node.items.fill(kNoItem);
        node.items[0] = i;
        level.push_back(node);
      }
    }
    result_.kept_per_order[1] = level.size();
    return level;
  }

  // Builds conjunctions of `order` items from pairs of nodes of order - 1
  // that share their first order - 2 items (Apriori join).
  std::vector<Node> NextLevel(const std::vector<Node>& previous, int order) {
    absl::flat_hash_map<Key, uint32_t> index;
    index.reserve(previous.size());
    for (uint32_t i = 0; i < previous.size(); ++i) index.emplace(previous[i].items, i);

    const int prefix = order - 2;
    const size_t slot_words = events_.words();
    std::vector<uint64_t> leader_slots(slot_words);
    std::vector<uint64_t> child_slots(slot_words);
    EpochBitset leader_bits(weights_);
    std::vector<Node> next;
    absl::flat_hash_map<SetKey, uint32_t> sets;  // distinct sets of this level -> node or kNone
    constexpr uint32_t kNotKept = std::numeric_limits<uint32_t>::max();
    std::array<const Node*, kMaxOrder> parts{};

    size_t block_begin = 0;
    while (block_begin < previous.size()) {
      size_t block_end = block_begin + 1;
      while (block_end < previous.size() && std::equal(previous[block_begin].items.begin(),
                                                       previous[block_begin].items.begin() + prefix,
                                                       previous[block_end].items.begin())) {
        ++block_end;
      }
      for (size_t a = block_begin; a < block_end; ++a) {
        const Node& leader = previous[a];
        if (!leader.leads) continue;
        // Slots of the leader: the AND of its items' slots.
        std::copy(item(leader.items[0]).event_slots.begin(),
                  item(leader.items[0]).event_slots.end(), leader_slots.begin());
        for (int m = 1; m < order - 1; ++m) {
          AndSlots(leader_slots.data(), item(leader.items[m]).event_slots.data(),
                   leader_slots.data(), slot_words);
        }
        int leader_config = 0;
        for (int m = 0; m < order - 1; ++m) leader_config += IsConfig(item(leader.items[m]));
        bool leader_bits_ready = false;
        BitsetView leader_view;
        for (size_t b = a + 1; b < block_end; ++b) {
          const uint32_t last = previous[b].items[order - 2];
          const Item& added = item(last);
          AndSlots(leader_slots.data(), added.event_slots.data(), child_slots.data(), slot_words);
          const uint64_t child_events = events_.Count(child_slots.data());
          if (child_events < options_.min_events) continue;
          const int child_config = leader_config + (IsConfig(added) ? 1 : 0);
          if (Bound(child_events) > Threshold(child_config > 0)) {
            ++result_.pruned_by_bound;
            continue;
          }
          Key items = leader.items;
          items[order - 1] = last;
          // Every part must have been kept: the leader, previous[b], and the
          // ones without one of the prefix items.
          parts[0] = &leader;
          parts[1] = &previous[b];
          bool all_parts = true;
          for (int m = 0; m < prefix && all_parts; ++m) {
            Key part;
            part.fill(kNoItem);
            for (int i = 0, j = 0; i < order; ++i) {
              if (i != m) part[j++] = items[i];
            }
            const auto found = index.find(part);
            all_parts = found != index.end();
            if (all_parts) parts[2 + m] = &previous[found->second];
          }
          if (!all_parts) continue;

          if (!leader_bits_ready) {
            leader_view = LeaderBits(leader, order - 1, leader_bits);
            leader_bits_ready = true;
          }
          const SetSize size = IntersectSize(leader_view, added.bits, weights_);
          ++result_.intersected_per_order[order];
          if (size.epochs < options_.min_epochs || size.exposure < min_exposure_) continue;
          bool redundant = false;
          for (int p = 0; p < order; ++p) redundant = redundant || size.epochs == parts[p]->epochs;
          if (redundant) {
            ++result_.redundant_per_order[order];
            continue;
          }

          // The same set reached under another name is the same hypothesis:
          // tested once; its first name kept unless this one has fewer
          // config options.
          const auto [seen, first] = sets.try_emplace(SetKey{size.hash, size.epochs}, kNotKept);
          if (!first &&
              (seen->second == kNotKept || next[seen->second].config_items <= child_config)) {
            ++result_.duplicate_per_order[order];
            continue;
          }
          const double log_p = LogP(child_events, size.exposure);
          if (first) RecordTested(log_p, order);
          double log_parts_p = -kInfinity;
          for (int p = 0; p < order; ++p) {
            const double share = std::min(1.0, size.exposure / parts[p]->exposure);
            log_parts_p =
                std::max(log_parts_p, LogBinomialUpperTail(parts[p]->events, child_events, share));
          }
          const double worst = std::max(log_p, log_parts_p);
          if (worst <= log_productive_ &&
              events_.HasHosts(child_slots.data(), options_.min_event_hosts)) {
            Conjunction candidate{.items = items,
                                  .size = order,
                                  .events = child_events,
                                  .epochs = size.epochs,
                                  .exposure = size.exposure,
                                  .log_p = log_p,
                                  .log_parts_p = log_parts_p,
                                  .config_items = child_config};
            Offer(candidate);
          }
          if (order < options_.max_order && worst <= log_extend_) {
            if (!first) next[seen->second].leads = false;  // this better name leads instead
            seen->second = static_cast<uint32_t>(next.size());
            ++result_.kept_per_order[order];
            next.push_back(Node{.items = items,
                                .events = child_events,
                                .epochs = size.epochs,
                                .exposure = size.exposure,
                                .log_p = log_p,
                                .config_items = child_config});
          }
        }
      }
      block_begin = block_end;
    }
    ApplyBeam(next);
    return next;
  }

  // Leaves only the best nodes leading joins (see MiningOptions::beam).
  void ApplyBeam(std::vector<Node>& nodes) {
    std::vector<std::pair<double, uint32_t>> leading;
    std::vector<std::pair<double, uint32_t>> leading_plain;
    for (uint32_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i].leads) continue;
      leading.push_back({nodes[i].log_p, i});
      if (nodes[i].config_items == 0) leading_plain.push_back({nodes[i].log_p, i});
    }
    if (leading.size() <= options_.beam) return;
    const auto keep_best = [](std::vector<std::pair<double, uint32_t>>& list, size_t n) {
      if (list.size() > n) {
        std::nth_element(list.begin(), list.begin() + static_cast<std::ptrdiff_t>(n), list.end());
        list.resize(n);
      }
    };
    keep_best(leading, options_.beam);
    keep_best(leading_plain, options_.beam_plain);
    std::vector<bool> stays(nodes.size(), false);
    for (const auto& [log_p, i] : leading) stays[i] = true;
    for (const auto& [log_p, i] : leading_plain) stays[i] = true;
    for (uint32_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].leads && !stays[i]) {
        nodes[i].leads = false;
        ++result_.left_by_beam;
      }
    }
  }

  // The epochs of a node, as a view: the item itself for a single, else the
  // AND of its items computed into `scratch`.
  BitsetView LeaderBits(const Node& node, int size, EpochBitset& scratch) {
    if (size == 1) return item(node.items[0]).bits;
    Intersect(item(node.items[0]).bits, item(node.items[1]).bits, scratch, weights_);
    for (int m = 2; m < size; ++m) {
      Intersect(scratch.view(), item(node.items[m]).bits, scratch, weights_);
    }
    return scratch.view();
  }

  const ItemTable& table_;
  const EpochWeights& weights_;
  const EventIndex& events_;
  const MiningOptions& options_;
  const uint64_t total_events_;
  const double total_exposure_;
  const double min_exposure_;
  const double log_productive_;
  const double log_extend_;
  BestCandidates kept_{options_.keep};
  BestCandidates kept_plain_{options_.keep_plain};
  std::vector<double> bounds_;
  MiningResult result_;
};

}  // namespace

MiningResult MineConjunctions(const ItemTable& table, const EpochWeights& weights,
                              const EventIndex& events, const MiningOptions& options) {
  return Miner(table, weights, events, options).Run();
}

}  // namespace fscanary::analysis
