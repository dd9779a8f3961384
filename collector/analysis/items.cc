#include "collector/analysis/items.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "collector/analysis/kernel_version.h"

namespace fscanary::analysis {
namespace {

bool IsConfigOption(const std::string& attribute) { return attribute.rfind("CONFIG_", 0) == 0; }

// A candidate value before grouping.
struct Candidate {
  ValueLabel label;
  bool derived = false;
  bool kernel = false;
  const uint64_t* words = nullptr;    // fleet posting words, or
  std::vector<uint64_t> owned_words;  // materialized here
  uint64_t count = 0;
};

std::vector<uint64_t> WordsOfList(std::span<const uint32_t> epochs, size_t words) {
  std::vector<uint64_t> bits(words, 0);
  for (const uint32_t e : epochs) bits[e / 64] |= uint64_t{1} << (e % 64);
  return bits;
}

}  // namespace

ItemTable BuildItems(const Fleet& fleet, const EpochWeights& weights, const EventIndex& events,
                     const ItemOptions& options) {
  ItemTable table;
  table.kernel_attribute = options.kernel_attribute;
  const uint64_t n = fleet.epoch_count();
  const size_t words = weights.words();
  const double min_exposure = options.min_support * weights.total();
  const auto enough = [&](uint64_t count) { return count >= options.min_epochs && count < n; };

  std::vector<Candidate> candidates;
  const std::optional<AttributeId> kernel = fleet.FindAttribute(options.kernel_attribute);
  for (ValueId value = 0; value < fleet.value_count(); ++value) {
    ++table.values_seen;
    const EpochPosting& posting = fleet.posting(value);
    if (!enough(posting.count())) continue;
    Candidate candidate{
        .label = {fleet.attribute_name(fleet.value_attribute(value)), fleet.value_text(value)},
        .kernel = kernel.has_value() && fleet.value_attribute(value) == *kernel,
        .count = posting.count()};
    if (posting.is_bitset()) {
      candidate.words = posting.words().data();
    } else {
      // Rare values: check their exposure before spending a bitset on them.
      double exposure = 0;
      for (const uint32_t e : posting.epochs()) exposure += weights.exposure(e);
      if (exposure < min_exposure) continue;
      candidate.owned_words = WordsOfList(posting.epochs(), words);
    }
    candidates.push_back(std::move(candidate));
  }

  // Kernel series (x.y) and ranges within them, derived from the release.
  if (kernel.has_value()) {
    std::map<std::pair<int, int>, std::vector<ValueId>> series;
    for (const ValueId value : fleet.attribute_values(*kernel)) {
      if (const auto version = ParseKernelVersion(fleet.value_text(value)); version.has_value()) {
        series[{version->major, version->minor}].push_back(value);
      }
    }
    const bool derive_series = !fleet.FindAttribute(options.kernel_series_attribute).has_value();
    const auto add_union = [&](std::vector<ValueId>::const_iterator begin,
                               std::vector<ValueId>::const_iterator end, ValueLabel label) {
      ++table.values_seen;
      Candidate candidate{.label = std::move(label), .derived = true, .kernel = true};
      candidate.owned_words.assign(words, 0);
      for (auto it = begin; it != end; ++it) {
        const EpochPosting& posting = fleet.posting(*it);
        candidate.count += posting.count();
        if (posting.is_bitset()) {
          for (size_t w = 0; w < words; ++w) candidate.owned_words[w] |= posting.words()[w];
        } else {
          for (const uint32_t e : posting.epochs()) {
            candidate.owned_words[e / 64] |= uint64_t{1} << (e % 64);
          }
        }
      }
      if (enough(candidate.count)) candidates.push_back(std::move(candidate));
    };
    for (auto& [major_minor, members] : series) {
      std::sort(members.begin(), members.end(), [&](ValueId a, ValueId b) {
        return KernelReleaseLess(fleet.value_text(a), fleet.value_text(b));
      });
      if (derive_series) {
        add_union(members.begin(), members.end(),
                  {options.kernel_series_attribute,
                   std::to_string(major_minor.first) + "." + std::to_string(major_minor.second)});
      }
      // Proper ranges of two or more releases; one release is the release itself.
      const auto range = [&](size_t first, size_t last) {
        return ValueLabel{options.kernel_range_attribute, fleet.value_text(members[first]) + ".." +
                                                              fleet.value_text(members[last])};
      };
      for (size_t last = 1; last + 1 < members.size(); ++last) {
        add_union(members.begin(), members.begin() + static_cast<std::ptrdiff_t>(last) + 1,
                  range(0, last));
      }
      for (size_t first = 1; first + 1 < members.size(); ++first) {
        add_union(members.begin() + static_cast<std::ptrdiff_t>(first), members.end(),
                  range(first, members.size() - 1));
      }
    }
    table.derived_series = derive_series;
  }

  // One pass of hashing groups values that split the fleet identically.
  const size_t bytes = words * sizeof(uint64_t);
  const auto words_of = [](const Candidate& c) {
    return c.words != nullptr ? c.words : c.owned_words.data();
  };
  absl::flat_hash_map<uint64_t, std::vector<size_t>> groups_by_hash;
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const uint64_t* bits = words_of(candidates[i]);
    std::vector<size_t>& same_hash = groups_by_hash[XXH3_64bits(bits, bytes)];
    bool placed = false;
    for (const size_t g : same_hash) {
      const Candidate& first = candidates[groups[g].front()];
      if (first.count == candidates[i].count && std::memcmp(words_of(first), bits, bytes) == 0) {
        groups[g].push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) {
      same_hash.push_back(groups.size());
      groups.push_back({i});
    }
  }

  for (std::vector<size_t>& group : groups) {
    const auto rank = [&](size_t i) {
      const Candidate& c = candidates[i];
      const bool range = c.derived && c.label.attribute == options.kernel_range_attribute;
      return std::make_tuple(!c.kernel, IsConfigOption(c.label.attribute), c.derived, range,
                             std::cref(c.label.attribute), std::cref(c.label.value));
    };
    std::sort(group.begin(), group.end(), [&](size_t a, size_t b) { return rank(a) < rank(b); });
    Candidate& first = candidates[group.front()];
    auto item = std::make_unique<Item>();
    if (first.words == nullptr) {
      item->owned_words = std::move(first.owned_words);
      item->bits.words = item->owned_words.data();
    } else {
      item->bits.words = first.words;
    }
    item->summary = Summarize({item->bits.words, words}, weights.summary_words());
    item->bits.summary = item->summary.data();
    const SetSize size = Measure(item->bits, weights);
    if (size.exposure < min_exposure || size.exposure >= weights.total()) continue;
    item->epochs = size.epochs;
    item->exposure = size.exposure;
    item->event_slots = events.SlotsOf(item->bits);
    item->events = events.Count(item->event_slots.data());
    for (const size_t member : group) {
      item->kernel = item->kernel || candidates[member].kernel;
      item->members.push_back(std::move(candidates[member].label));
    }
    table.values_in_items += group.size();
    table.items.push_back(std::move(item));
  }
  return table;
}

}  // namespace fscanary::analysis
