#pragma once
// The attribute values the engine tests, grouped into alias groups: values
// held by exactly the same epochs are one item, since no statistic can tell
// them apart. Internal to the analysis.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/analysis/epoch_bitset.h"
#include "collector/analysis/event_index.h"
#include "collector/analysis/fleet.h"

namespace fscanary::analysis {

struct ValueLabel {
  std::string attribute;
  std::string value;
};

// An alias group. Its members are listed in this order, the first naming the
// group: the kernel release, series or range; then other values, kernel
// CONFIG_ options last (they co-vary with every kernel build); values the
// agents sent before derived ones, series before ranges; then by name.
struct Item {
  std::vector<ValueLabel> members;
  BitsetView bits;
  std::vector<uint64_t> owned_words;  // when `bits` is not a fleet posting
  std::vector<uint64_t> summary;
  std::vector<uint64_t> event_slots;
  uint64_t epochs = 0;
  double exposure = 0;
  uint64_t events = 0;
  bool kernel = false;  // a member is a kernel release, series or range
};

struct ItemOptions {
  uint64_t min_epochs = 3;
  double min_support = 0.001;  // share of the exposure
  std::string kernel_attribute = "kernel";
  std::string kernel_series_attribute = "kernel_series";
  std::string kernel_range_attribute = "kernel_range";
};

struct ItemTable {
  std::vector<std::unique_ptr<Item>> items;
  size_t values_seen = 0;      // attribute values in the fleet, plus derived series
  size_t values_in_items = 0;  // of those, the ones with enough support
  bool derived_series = false;
  std::string kernel_attribute;
};

// Items with at least `min_epochs` epochs and `min_support` of the exposure,
// and some exposure outside them. When the fleet has a kernel attribute, adds
// derived kernel values: the series (x.y, unless agents send it), and per
// series the ranges of releases from its first to each later one ("introduced
// in the merge window, fixed in a stable update") and from each to its last
// ("a bad backport"), written "first..last".
ItemTable BuildItems(const Fleet& fleet, const EpochWeights& weights, const EventIndex& events,
                     const ItemOptions& options);

}  // namespace fscanary::analysis
